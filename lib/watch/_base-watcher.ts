/**
 * The life cycle shared by `QueueWatcher` and `QueueMoveWatcher`: start,
 * run, stop, dispose, and handing each message to the handler with the
 * error-handler rules.
 * @module
 */
import { Broker } from "../queue/broker.ts";
import { openBroker } from "../queue/open.ts";
import type { ConfigOverrides } from "../target/config.ts";
import { ArgumentError } from "../core/errors.ts";
import type { BrokerConfig, BrokerTarget, Message } from "../core/types.ts";
import { utf8Length } from "../core/validate.ts";

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
  /** Default: log (with BROKER_LOGGING_ENABLED) and continue. */
  errorHandler?: ErrorHandler;
}

/** Shared lifecycle of the watchers: start, run, stop, dispose. */
export abstract class BaseWatcher implements AsyncDisposable {
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

/** The broker of a watch: the one given (left open), or one opened on the target (closed by the watch). */
export async function brokerFor(
  target: string | BrokerTarget | Broker | undefined,
  config: ConfigOverrides | BrokerConfig | undefined,
): Promise<{ broker: Broker; owned: boolean }> {
  if (target instanceof Broker) return { broker: target, owned: false };
  return { broker: await openBroker(target, { config }), owned: true };
}
