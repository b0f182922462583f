/**
 * The life cycle shared by `QueueWatcher` and `QueueMoveWatcher`: start,
 * run, stop, dispose, and handing each message to the handler with the
 * error-handler rules.
 * @module
 */
import type { Broker } from "../queue/broker.ts";
import type { ConfigOverrides } from "../target/config.ts";
import { ArgumentError, BackendError } from "../core/errors.ts";
import type { BrokerConfig, BrokerTarget, Message } from "../core/types.ts";
import { utf8Length } from "../core/validate.ts";
import { type BrokerLease, leaseBroker, type StartWait, WatchStopped } from "./_shared-broker.ts";
import type { ConnectionReporter } from "./reconnect.ts";

/** Called with each delivered message. */
export type MessageHandler = (message: Message) => void | Promise<void>;
/** Called when the handler throws; return false to stop the watcher. */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing means "continue"
export type ErrorHandler = (error: Error, message: Message | undefined) => boolean | void | Promise<boolean | void>;

/** Options of the watcher classes. */
export interface WatcherOptions {
  /** Database path, directory, target or open broker (default: the current directory's target). */
  db?: string | BrokerTarget | Broker;
  config?: ConfigOverrides;
  /** Stops the watcher when aborted. */
  signal?: AbortSignal;
  /**
   * Called when the handler throws (default: log with BROKER_LOGGING_ENABLED
   * and continue), and with `message` undefined when the watcher cannot start
   * or its store fails (default: one line on stderr); the watcher then stops.
   * When the connection to a server is lost it gets, once per outage, an
   * error with `retryable` true and `message` undefined: the watcher keeps
   * trying unless it returns false (docs/outages.md).
   */
  errorHandler?: ErrorHandler;
  /**
   * Told when the connection to a server is lost and when it is back
   * (default, without this and without `errorHandler`: one line on stderr
   * each). Returning false on `lost` stops the watcher.
   */
  onConnection?: ConnectionReporter;
}

/** Shared lifecycle of the watchers: start, run, stop, dispose. */
export abstract class BaseWatcher implements AsyncDisposable {
  readonly #options: WatcherOptions;
  readonly #handler: MessageHandler;
  #stop = new AbortController();
  #running: Promise<void> | undefined;
  #inBackground = false;
  readonly #started = Promise.withResolvers<void>();

  constructor(handler: MessageHandler, options: WatcherOptions) {
    if (typeof handler !== "function") throw new TypeError(`handler must be callable, got ${typeof handler}`);
    if (options.errorHandler !== undefined && typeof options.errorHandler !== "function") {
      throw new TypeError(`error_handler must be callable, got ${typeof options.errorHandler}`);
    }
    this.#handler = handler;
    this.#options = options;
    this.#started.promise.catch(() => {}); // also reported through errorHandler / run(); awaiting it is optional
    if (options.signal?.aborted) this.#stop.abort();
    else options.signal?.addEventListener("abort", () => this.#stop.abort(), { once: true });
  }

  /** True until {@link stop} is called (or the signal aborts). */
  get isRunning(): boolean {
    return !this.#stop.signal.aborted;
  }

  /**
   * Start in the background; returns this. Await {@link started} to know it
   * runs (or why it could not start), {@link stop} to end it.
   */
  start(): this {
    this.#inBackground = true;
    this.#running ??= this.#loop();
    this.#running.catch(() => {});
    return this;
  }

  /**
   * Resolves once the watcher has its connection and listens for messages;
   * rejects with the reason when it cannot start (the database cannot be
   * opened, too many open files, …), which also goes to the errorHandler.
   * A server that is down is waited for first, as in an outage
   * (docs/outages.md#a-server-down-when-the-watch-starts).
   */
  get started(): Promise<void> {
    return this.#started.promise;
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

  /**
   * What the watch's store calls report outages to: `onConnection` and the
   * errorHandler; undefined (the guard's default: stderr, one pair per
   * target in the process) with neither.
   */
  protected get reportConnection(): ConnectionReporter | undefined {
    const { onConnection, errorHandler } = this.#options;
    return onConnection || errorHandler ? this.#reportTo : undefined;
  }

  readonly #reportTo: ConnectionReporter = async (event) => {
    const { onConnection, errorHandler } = this.#options;
    if (onConnection && (await onConnection(event)) === false) this.#stop.abort();
    if (event.state !== "lost" || !errorHandler) return;
    const error = new BackendError(`Lost connection to ${event.target}; retrying`, { cause: event.error, retryable: true });
    try {
      if ((await errorHandler(error, undefined)) === false) this.#stop.abort();
    } catch (inner) {
      console.error(`Error handler failed: ${(inner as Error).message}`);
    }
  };

  /**
   * The messages of the watch; `guarded` runs its first store calls (resolving
   * `@aliases`), waiting for a server that is down (docs/outages.md).
   */
  protected abstract source(
    broker: Broker,
    signal: AbortSignal,
    guarded: BrokerLease["guarded"],
  ): Promise<AsyncGenerator<Message, void, undefined>>;

  /** Called with each message before it is dispatched. */
  protected beforeDispatch(): void {}

  /** Called after each dispatched message; return false to stop. */
  protected afterDispatch(): boolean {
    return true;
  }

  async #loop(): Promise<void> {
    let lease: BrokerLease | undefined;
    try {
      lease = await brokerFor(this.#options.db, this.#options.config, {
        signal: this.#stop.signal,
        report: this.reportConnection,
      });
      const broker = lease.broker;
      const messages = await this.source(broker, this.#stop.signal, lease.guarded);
      this.#started.resolve();
      for await (const m of messages) {
        this.beforeDispatch();
        if (!(await this.#dispatch(m, broker.config.maxMessageSize))) break;
        if (!this.afterDispatch()) break;
      }
    } catch (error) {
      if (error instanceof WatchStopped) return; // stopped while its server was down at the start
      this.#started.reject(error);
      await this.#reportFailure(error as Error);
      throw error;
    } finally {
      this.#stop.abort();
      this.#started.resolve(); // stopped before it started: nothing to wait for
      await lease?.release();
    }
  }

  /** The watcher itself failed (not a handler): tell the errorHandler, or stderr when it runs in the background without one. */
  async #reportFailure(error: Error): Promise<void> {
    const handler = this.#options.errorHandler;
    if (!handler) {
      if (this.#inBackground) console.error(`simplebroker: watcher stopped: ${error.message}`);
      return;
    }
    try {
      await handler(error, undefined);
    } catch (inner) {
      console.error(`Error handler failed: ${(inner as Error).message}`);
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

/**
 * The broker of a watch: the one given (left open), the broker shared by
 * this process's watchers of a local-file database, or one of its own on a
 * network target; `release` gives it back.
 */
export function brokerFor(
  target: string | BrokerTarget | Broker | undefined,
  config: ConfigOverrides | BrokerConfig | undefined,
  wait?: StartWait,
): Promise<BrokerLease> {
  return leaseBroker(target, config, wait);
}
