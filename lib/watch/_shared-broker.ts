/**
 * The brokers of the watchers of this process: watchers of one database
 * (same target, options and settings) share one broker, so one SQLite
 * connection, or one PostgreSQL pool and LISTEN connection, or one pair of
 * Redis connections, however many watchers there are; it opens with the
 * first and closes with the last.
 * @module
 */
import type { BrokerConfig, BrokerTarget } from "../core/types.ts";
import { Broker } from "../queue/broker.ts";
import { openBroker, resolveTargetArg } from "../queue/open.ts";
import { resolveConfig, type ConfigOverrides } from "../target/config.ts";

/** A broker for one watcher, and how to give it back. */
export interface BrokerLease {
  broker: Broker;
  /** Give the broker back: closes one the watcher opened (a shared one with its last user); never one it was given. */
  release(): Promise<void>;
}

interface Entry {
  opening: Promise<Broker>;
  users: number;
}

const shared = new Map<string, Entry>();

/**
 * The broker a watcher runs on: `target` itself when it is a broker, else the
 * shared broker of the target, opened (and its store set up) before this
 * resolves, so a target that cannot be opened rejects here.
 */
export async function leaseBroker(
  target: string | BrokerTarget | Broker | undefined,
  overrides: ConfigOverrides | BrokerConfig | undefined,
): Promise<BrokerLease> {
  if (target instanceof Broker) return { broker: target, release: async () => {} };
  const config = resolveConfig(overrides);
  const resolved = typeof target === "object" ? target : resolveTargetArg(target, config);
  const key = JSON.stringify([resolved.backendName, resolved.target, resolved.backendOptions, config], (_k, v) =>
    typeof v === "bigint" ? String(v) : v,
  );
  let entry = shared.get(key);
  if (!entry) {
    const created: Entry = { opening: openReady(resolved, config), users: 0 };
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
  return {
    broker,
    release: async () => {
      if (released) return;
      released = true;
      if (--mine.users > 0) return;
      if (shared.get(key) === mine) shared.delete(key);
      await broker.close();
    },
  };
}

// --- internal ---

/** Open a broker and its store now, so that a database that cannot be opened fails the watcher's start. */
async function openReady(target: BrokerTarget, config: BrokerConfig): Promise<Broker> {
  const broker = await openBroker(target, { config });
  try {
    await broker.backend.init();
    return broker;
  } catch (error) {
    await broker.close().catch(() => {});
    throw error;
  }
}
