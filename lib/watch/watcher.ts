/**
 * Watchers (docs/compatibility.md#watchers): `QueueWatcher` (consume or peek), `QueueMoveWatcher`,
 * and `watchQueue`, the async iterator under both and under `broker watch`.
 *
 * Wake-ups: a write in this process wakes its watchers at once; on SQLite a
 * change of the `-wal` file (inotify through fs.watch) or of `PRAGMA
 * data_version` wakes watchers in other processes, with the burst-then-backoff
 * poll of SimpleBroker as the safety net; Postgres and Redis use their native
 * `waitForActivity` (LISTEN/NOTIFY, pub/sub) with a slow fallback poll.
 * @module
 */
import { ActivityMonitor, offerIdleConsumer } from "./activity.ts";
import { Broker, openBroker } from "../queue/broker.ts";
import type { ConfigOverrides } from "../target/config.ts";
import { ArgumentError } from "../core/errors.ts";
import type { BrokerConfig, BrokerTarget, Message } from "../core/types.ts";
import { utf8Length } from "../core/validate.ts";

/** Options of {@link watchQueue} and `Queue.watch()`. */
export interface WatchOptions {
  /** Leave messages in the queue (default: consume them). */
  peek?: boolean;
  /** Only messages with an id above this, in consume mode too (docs/compatibility.md#q5-watch-after-in-consume-mode). */
  after?: bigint;
  /** Stops the watch. */
  signal?: AbortSignal;
}

/** What a watch runs against: a target (path, directory, resolved target) or an open broker. */
export interface WatchTargetOptions extends WatchOptions {
  target?: string | BrokerTarget | Broker;
  config?: ConfigOverrides | BrokerConfig;
}

/** Called with each delivered message. */
export type MessageHandler = (message: Message) => void | Promise<void>;
/** Called when the handler throws; return false to stop the watcher. */
export type ErrorHandler = (error: Error, message: Message | undefined) => boolean | void | Promise<boolean | void>;

/** The kinds of watch. */
export type WatchMode = { kind: "consume"; after?: bigint } | { kind: "peek"; after?: bigint } | { kind: "move"; destination: string };

/**
 * Messages of `queue` as they arrive, until `signal` aborts or the consumer
 * stops. A consumed message is claimed just before it is handed out, so
 * stopping never loses one that was not yielded.
 */
export async function* watchMessages(
  broker: Broker,
  queue: string,
  mode: WatchMode,
  signal: AbortSignal,
): AsyncGenerator<Message, void, undefined> {
  const backend = broker.backend;
  const monitor = new ActivityMonitor(backend, [queue], broker.config);
  // A watch keeps its process alive while it runs: sub-millisecond sleeps
  // (Atomics.waitAsync) and the unref'd -wal watcher do not hold the event loop.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let lastSeen = mode.kind === "move" ? undefined : mode.after;
  // Messages a writer of this process handed to this watch (lib/watch/activity.ts IdleConsumer), not yet yielded;
  // in consume mode they are already claimed for it.
  const handedOver: Message[] = [];
  const takesHandOvers = backend.name === "sqlite" && mode.kind !== "move";
  try {
    while (!signal.aborted) {
      let m = handedOver.shift();
      if (!m) {
        const got =
          mode.kind === "consume"
            ? await backend.claim(queue, { after: mode.after })
            : mode.kind === "peek"
              ? await backend.peek(queue, { after: lastSeen })
              : await backend.move(queue, mode.destination, {});
        m = got[0];
      }
      if (m) {
        monitor.markActive();
        if (mode.kind === "peek" && (lastSeen === undefined || m.ts > lastSeen)) lastSeen = m.ts;
        yield m;
        continue;
      }
      // Idle: offer this watch to writers of this process until something arrives.
      const withdraw = takesHandOvers
        ? offerIdleConsumer(backend.displayTarget, queue, {
            after: mode.kind === "consume" ? mode.after : lastSeen,
            claims: mode.kind === "consume",
            accept: (m) => {
              handedOver.push(m);
              monitor.poke();
            },
          })
        : undefined;
      try {
        for (;;) {
          await monitor.wait(signal);
          if (signal.aborted || handedOver.length > 0 || broker.config.skipIdleCheck) break;
          if (await backend.hasPending(queue, mode.kind === "consume" ? mode.after : lastSeen)) break;
        }
      } finally {
        withdraw?.();
      }
    }
  } finally {
    clearInterval(keepAlive);
    monitor.close();
    // Claimed for this watch but never yielded (it stopped first): back to the queue, still unread.
    if (mode.kind === "consume") {
      for (const m of handedOver.splice(0)) {
        try {
          await backend.move(queue, queue, { exactId: m.ts, requireUnclaimed: false });
        } catch {
          // the store is gone (closed under the watch): the message stays claimed, as after a crash
        }
      }
    }
  }
}

/** Watch one queue as an async iterator, opening (and closing) its own broker. */
export async function* watchQueue(queue: string, options: WatchTargetOptions = {}): AsyncGenerator<Message, void, undefined> {
  const { broker, owned } = await brokerFor(options.target, options.config);
  const stop = linkedController(options.signal);
  try {
    const name = await broker.resolveQueue(queue);
    yield* watchMessages(broker, name, options.peek ? { kind: "peek", after: options.after } : { kind: "consume", after: options.after }, stop.signal);
  } finally {
    stop.dispose();
    if (owned) await broker.close();
  }
}

/** Options of the watcher classes. */
export interface WatcherOptions {
  /** Database path, directory, target or open broker (default: the current directory's target). */
  db?: string | BrokerTarget | Broker;
  config?: ConfigOverrides;
  /** Stops the watcher when aborted. */
  signal?: AbortSignal;
  /** Default: log (with BROKER_LOGGING_ENABLED) and continue. */
  errorHandler?: ErrorHandler;
}

/** Shared lifecycle of the watchers: start, run, stop, dispose. */
abstract class BaseWatcher implements AsyncDisposable {
  readonly #options: WatcherOptions;
  readonly #handler: MessageHandler;
  #stop = new AbortController();
  #running: Promise<void> | undefined;

  constructor(handler: MessageHandler, options: WatcherOptions) {
    if (typeof handler !== "function") throw new TypeError(`handler must be callable, got ${typeof handler}`);
    if (options.errorHandler !== undefined && typeof options.errorHandler !== "function") {
      throw new TypeError(`error_handler must be callable, got ${typeof options.errorHandler}`);
    }
    this.#handler = handler;
    this.#options = options;
    if (options.signal?.aborted) this.#stop.abort();
    else options.signal?.addEventListener("abort", () => this.#stop.abort(), { once: true });
  }

  /** True until {@link stop} is called (or the signal aborts). */
  get isRunning(): boolean {
    return !this.#stop.signal.aborted;
  }

  /** Start in the background; returns this. Await {@link stop} to end it. */
  start(): this {
    this.#running ??= this.#loop();
    this.#running.catch(() => {});
    return this;
  }

  /** Run until stopped; rejects if the watcher fails. */
  run(): Promise<void> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  /** Stop and wait for the loop to end. Idempotent. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running?.catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  protected abstract source(broker: Broker, signal: AbortSignal): Promise<AsyncGenerator<Message, void, undefined>>;

  /** Called with each message before it is dispatched. */
  protected beforeDispatch(): void {}

  /** Called after each dispatched message; return false to stop. */
  protected afterDispatch(): boolean {
    return true;
  }

  async #loop(): Promise<void> {
    const { broker, owned } = await brokerFor(this.#options.db, this.#options.config);
    try {
      const messages = await this.source(broker, this.#stop.signal);
      for await (const m of messages) {
        this.beforeDispatch();
        if (!(await this.#dispatch(m, broker.config.maxMessageSize))) break;
        if (!this.afterDispatch()) break;
      }
    } finally {
      this.#stop.abort();
      if (owned) await broker.close();
    }
  }

  async #dispatch(m: Message, max: number): Promise<boolean> {
    try {
      const size = utf8Length(m.body);
      if (size > max) throw new ArgumentError(`Message size (${size} bytes) exceeds ${max} byte limit`);
      await this.#handler(m);
      return true;
    } catch (error) {
      const handler = this.#options.errorHandler;
      if (!handler) {
        if (process.env.BROKER_LOGGING_ENABLED === "1") console.error(`Handler error: ${(error as Error).message}`);
        return true;
      }
      try {
        return (await handler(error as Error, m)) !== false;
      } catch (inner) {
        console.error(`Error handler failed: ${(inner as Error).message}`);
        return true;
      }
    }
  }
}

/** Watch a queue and hand each new message to `handler` (consumed, or peeked with `peek: true`). */
export class QueueWatcher extends BaseWatcher {
  readonly queue: string;
  readonly #peek: boolean;
  readonly #after: bigint | undefined;

  constructor(queue: string | { name: string }, handler: MessageHandler, options: WatcherOptions & { peek?: boolean; after?: bigint } = {}) {
    super(handler, options);
    this.queue = typeof queue === "string" ? queue : queue.name;
    this.#peek = options.peek ?? false;
    this.#after = options.after;
  }

  protected async source(broker: Broker, signal: AbortSignal) {
    const name = await broker.resolveQueue(this.queue);
    return watchMessages(broker, name, this.#peek ? { kind: "peek", after: this.#after } : { kind: "consume", after: this.#after }, signal);
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
    if (this.sourceQueue === this.destQueue) throw new ArgumentError("Cannot move messages to the same queue");
    this.maxMessages = options.maxMessages;
  }

  /** Messages moved so far. */
  get moveCount(): number {
    return this.#moved;
  }

  protected async source(broker: Broker, signal: AbortSignal) {
    const src = await broker.resolveQueue(this.sourceQueue);
    const dst = await broker.resolveQueue(this.destQueue);
    if (src === dst) throw new ArgumentError("Cannot move messages to the same queue");
    return watchMessages(broker, src, { kind: "move", destination: dst }, signal);
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

async function brokerFor(
  target: string | BrokerTarget | Broker | undefined,
  config: ConfigOverrides | BrokerConfig | undefined,
): Promise<{ broker: Broker; owned: boolean }> {
  if (target instanceof Broker) return { broker: target, owned: false };
  return { broker: await openBroker(target, { config }), owned: true };
}

function linkedController(signal?: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const c = new AbortController();
  const abort = () => c.abort();
  signal?.addEventListener("abort", abort, { once: true });
  if (signal?.aborted) c.abort();
  return { signal: c.signal, dispose: () => signal?.removeEventListener("abort", abort) };
}
