/**
 * Watchers (docs/compatibility.md#watchers): `QueueWatcher` (consume or peek), `QueueMoveWatcher`,
 * and `watchQueue`, the async iterator under both and under `broker watch`.
 *
 * Wake-ups follow the backend's capabilities (see `ActivityMonitor`): native
 * `waitForActivity` (Postgres LISTEN/NOTIFY, Redis pub/sub) with a slow
 * fallback poll; activity hints and `dataVersion` (SQLite: writes in this
 * process, `-wal` changes, `PRAGMA data_version`) with the burst-then-backoff
 * poll of SimpleBroker as the safety net; or that poll alone. A backend with
 * `offerIdle` hands a write of this process straight to an idle watcher.
 * @module
 */
import type { Broker } from "../queue/broker.ts";
import type { ConfigOverrides } from "../target/config.ts";
import type { BrokerConfig, BrokerTarget, Message } from "../core/types.ts";
import { checkDestination } from "../delivery/ops.ts";
import type { WatchOptions } from "./watch-source.ts";
import { BaseWatcher, brokerFor, type MessageHandler, type WatcherOptions } from "./_base-watcher.ts";
import { type BrokerLease, WatchStopped } from "./_shared-broker.ts";

export type { WatchMode, WatchOptions } from "./watch-source.ts";
export type { ErrorHandler, MessageHandler, WatcherOptions } from "./_base-watcher.ts";
export type { ConnectionEvent, ConnectionReporter } from "./reconnect.ts";

/** What a watch runs against: a target (path, directory, resolved target) or an open broker. */
export interface WatchTargetOptions extends WatchOptions {
  target?: string | BrokerTarget | Broker;
  config?: ConfigOverrides | BrokerConfig;
}

/** Watch one queue as an async iterator, on the broker it is given or one it leases (see `_shared-broker.ts`). */
export async function* watchQueue(queue: string, options: WatchTargetOptions = {}): AsyncGenerator<Message, void, undefined> {
  const stop = linkedController(options.signal);
  let lease: BrokerLease | undefined;
  try {
    // A server down when the watch starts is waited for like any outage (docs/outages.md#a-server-down-when-the-watch-starts).
    lease = await brokerFor(options.target, options.config, { signal: stop.signal, report: options.onConnection });
    const broker = lease.broker;
    const name = await lease.guarded(() => broker.resolveQueue(queue));
    const onConnection = options.onConnection;
    yield* broker.watch(
      name,
      options.peek
        ? { kind: "peek", after: options.after, onConnection }
        : { kind: "consume", after: options.after, onConnection },
      stop.signal,
    );
  } catch (error) {
    if (!(error instanceof WatchStopped)) throw error;
  } finally {
    stop.dispose();
    await lease?.release();
  }
}

/** Watch a queue and hand each new message to `handler` (consumed, or peeked with `peek: true`). */
export class QueueWatcher extends BaseWatcher {
  readonly queue: string;
  readonly #peek: boolean;
  readonly #after: bigint | undefined;

  constructor(
    queue: string | { name: string },
    handler: MessageHandler,
    options: WatcherOptions & { peek?: boolean; after?: bigint } = {},
  ) {
    super(handler, options);
    this.queue = typeof queue === "string" ? queue : queue.name;
    this.#peek = options.peek ?? false;
    this.#after = options.after;
  }

  protected async source(broker: Broker, signal: AbortSignal, guarded: BrokerLease["guarded"]) {
    const name = await guarded(() => broker.resolveQueue(this.queue));
    const onConnection = this.reportConnection;
    return broker.watch(
      name,
      this.#peek ? { kind: "peek", after: this.#after, onConnection } : { kind: "consume", after: this.#after, onConnection },
      signal,
    );
  }
}

/** Move every message arriving in `sourceQueue` to `destQueue`, then hand it to `handler`. */
export class QueueMoveWatcher extends BaseWatcher {
  readonly sourceQueue: string;
  readonly destQueue: string;
  readonly maxMessages: number | undefined;
  #moved = 0;

  constructor(
    sourceQueue: string | { name: string },
    destQueue: string | { name: string },
    handler: MessageHandler,
    options: WatcherOptions & { maxMessages?: number } = {},
  ) {
    super(handler, options);
    this.sourceQueue = typeof sourceQueue === "string" ? sourceQueue : sourceQueue.name;
    this.destQueue = typeof destQueue === "string" ? destQueue : destQueue.name;
    checkDestination(this.sourceQueue, this.destQueue, { message: "Cannot move messages to the same queue" });
    this.maxMessages = options.maxMessages;
  }

  /** Messages moved so far. */
  get moveCount(): number {
    return this.#moved;
  }

  protected async source(broker: Broker, signal: AbortSignal, guarded: BrokerLease["guarded"]) {
    const src = await guarded(() => broker.resolveQueue(this.sourceQueue));
    const dst = await guarded(() => broker.resolveQueue(this.destQueue));
    return broker.watch(src, { kind: "move", destination: dst, onConnection: this.reportConnection }, signal);
  }

  // Counted when moved, before the handler runs: a failed handler does not undo the move.
  protected override beforeDispatch(): void {
    this.#moved++;
  }

  protected override afterDispatch(): boolean {
    return this.maxMessages === undefined || this.#moved < this.maxMessages;
  }
}

// --- internal ---

function linkedController(signal?: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const c = new AbortController();
  const abort = () => c.abort();
  signal?.addEventListener("abort", abort, { once: true });
  if (signal?.aborted) c.abort();
  return { signal: c.signal, dispose: () => signal?.removeEventListener("abort", abort) };
}
