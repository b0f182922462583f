/**
 * The brokers of the watchers of this process: watchers of one database
 * (same target, options and settings) share one broker, so one SQLite
 * connection, or one PostgreSQL pool and LISTEN connection, or one pair of
 * Redis connections, however many watchers there are; it opens with the
 * first and closes with the last.
 * @module
 */
import { isConnectionLoss } from "../backends/connection-loss.ts";
import type { BrokerConfig, BrokerTarget } from "../core/types.ts";
import { Broker } from "../queue/broker.ts";
import { openBroker, resolveTargetArg } from "../queue/open.ts";
import { resolveConfig, type ConfigOverrides } from "../target/config.ts";
import { type ConnectionReporter, OutageGuard } from "./reconnect.ts";

/** A broker for one watcher, and how to give it back. */
export interface BrokerLease {
  broker: Broker;
  /** Give the broker back: closes one the watcher opened (a shared one with its last user); never one it was given. */
  release(): Promise<void>;
  /** `op` waiting out outages as the watch's own store calls do (docs/outages.md); throws {@link WatchStopped} when stopped first. */
  guarded<T>(op: () => Promise<T>): Promise<T>;
}

/** How a watcher waits for a server that is down when it starts: its stop signal and who hears about the outage. */
export interface StartWait {
  signal: AbortSignal;
  report?: ConnectionReporter;
}

/** The watcher was stopped while it waited for its server to start answering. */
export class WatchStopped extends Error {
  constructor() {
    super("The watcher was stopped before its server answered");
  }
}

interface Entry {
  opening: Promise<Broker>;
  users: number;
  /** The store was set up (or verified); false while its server has not answered yet. */
  ready: boolean;
}

const shared = new Map<string, Entry>();

/**
 * The broker a watcher runs on: `target` itself when it is a broker, else the
 * shared broker of the target, opened (and its store set up) before this
 * resolves, so a target that cannot be opened rejects here. A server that is
 * down is waited for, as in an outage, when `wait` is given (the default
 * reconnect timeout applies); without it that fails at once too.
 */
export async function leaseBroker(
  target: string | BrokerTarget | Broker | undefined,
  overrides: ConfigOverrides | BrokerConfig | undefined,
  wait?: StartWait,
): Promise<BrokerLease> {
  if (target instanceof Broker) return { broker: target, release: async () => {}, guarded: guardFor(target, wait) };
  const config = resolveConfig(overrides);
  const resolved = typeof target === "object" ? target : resolveTargetArg(target, config);
  const key = JSON.stringify([resolved.backendName, resolved.target, resolved.backendOptions, config], (_k, v) =>
    typeof v === "bigint" ? String(v) : v,
  );
  let entry = shared.get(key);
  if (!entry) {
    const created = { users: 0, ready: false } as Entry;
    created.opening = openReady(resolved, config, wait !== undefined, () => (created.ready = true));
    created.opening.catch(() => {
      if (shared.get(key) === created) shared.delete(key); // the next watcher tries again
    });
    shared.set(key, (entry = created));
  }
  const mine = entry;
  mine.users++;
  let broker: Broker;
  try {
    broker = await mine.opening;
  } catch (error) {
    mine.users--;
    throw error;
  }
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    if (--mine.users > 0) return;
    if (shared.get(key) === mine) shared.delete(key);
    await broker.close();
  };
  const guarded = guardFor(broker, wait);
  if (!mine.ready) {
    // The server did not answer the opening: set the store up once it does (every waiting watcher tries).
    try {
      await guarded(() => broker.backend.init());
      mine.ready = true;
    } catch (error) {
      await release();
      throw error;
    }
  }
  return { broker, release, guarded };
}

// --- internal ---

/** Run store calls of a watcher's start through a guard (when it waits out outages). */
function guardFor(broker: Broker, wait: StartWait | undefined): BrokerLease["guarded"] {
  if (!wait) return (op) => op();
  const guard = new OutageGuard(broker.displayTarget, wait.signal, wait.report);
  return async <T>(op: () => Promise<T>): Promise<T> => {
    let done = false;
    let value: T | undefined;
    await guard.run(async () => {
      value = await op();
      done = true;
    });
    if (!done) throw new WatchStopped();
    return value as T;
  };
}

/**
 * Open a broker and its store now, so that a database that cannot be opened
 * fails the watcher's start; with `waits`, a server that does not answer yet
 * leaves the store to be set up by each watcher through its guard.
 */
async function openReady(target: BrokerTarget, config: BrokerConfig, waits: boolean, ready: () => void): Promise<Broker> {
  const broker = await openBroker(target, { config });
  try {
    await broker.backend.init();
    ready();
    return broker;
  } catch (error) {
    if (waits && isConnectionLoss(error)) return broker;
    await broker.close().catch(() => {});
    throw error;
  }
}
