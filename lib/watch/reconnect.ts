/**
 * Waiting out a lost connection (docs/outages.md): a watch runs each store
 * call through {@link OutageGuard}, which retries a call that failed because
 * the server went away, with capped exponential backoff and jitter, reports
 * the outage once when it starts and once when the server answers again, and
 * gives up only after `BROKER_BACKEND_RECONNECT_TIMEOUT` seconds (default:
 * never).
 * @module
 */
import { isConnectionLoss } from "../backends/connection-loss.ts";
import { BackendError, ConfigError } from "../core/errors.ts";
import { outageLeft, outageLost, outageRestored } from "./_outage-lines.ts";

/** An outage starting or ending, as a watch reports it. */
export type ConnectionEvent =
  | { state: "lost"; target: string; error: Error }
  | { state: "restored"; target: string; downMs: number };

/**
 * Told about outages; the default prints one line on stderr for each. An
 * async reporter is awaited; `lost` resolving false stops the watch.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a reporter that returns nothing means "keep trying"
export type ConnectionReporter = (event: ConnectionEvent) => boolean | void | Promise<boolean | void>;

/** First retry delay, and the cap of the doubling: a server that is back is seen within a second. */
export const RETRY_FIRST_MS = 100;
export const RETRY_CAP_MS = 800;

/**
 * Prints the two lines of an outage on stderr. A guard given this reporter
 * (the default) shares its lines with every other guard of the process on the
 * same target: one pair per outage (see `_outage-lines.ts`).
 */
export const stderrReporter: ConnectionReporter = (event) => {
  if (event.state === "lost") console.error(`simplebroker: warning: lost connection to ${event.target}; retrying`);
  else console.error(`simplebroker: reconnected to ${event.target} after ${(event.downMs / 1000).toFixed(1)} s`);
};

/** `BROKER_BACKEND_RECONNECT_TIMEOUT` in seconds; undefined (keep trying) when unset or empty. */
export function reconnectTimeoutSeconds(env: Record<string, string | undefined> = process.env): number | undefined {
  const raw = env.BROKER_BACKEND_RECONNECT_TIMEOUT?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new ConfigError(`BROKER_BACKEND_RECONNECT_TIMEOUT must be a number of seconds >= 0, got '${raw}'`, {
      key: "BROKER_BACKEND_RECONNECT_TIMEOUT",
    });
  }
  return value;
}

/**
 * Resolve queue names (an `@alias` asks the server) waiting for a server that
 * is down, as the first store call of a CLI watch that runs until it is
 * signalled (docs/outages.md#a-server-down-when-the-watch-starts).
 */
export function waitingResolver(broker: {
  readonly displayTarget: string;
  resolveQueue(name: string): Promise<string>;
}): (name: string) => Promise<string> {
  const guard = new OutageGuard(broker.displayTarget, new AbortController().signal);
  return async (name) => (await guard.run(() => broker.resolveQueue(name))) as string;
}

/** Runs the store calls of one watch, waiting out outages. */
export class OutageGuard {
  readonly #target: string;
  readonly #report: ConnectionReporter;
  readonly #timeoutMs: number | undefined;
  readonly #signal: AbortSignal;
  /** When the current outage started (performance.now()), undefined while connected. */
  #downSince: number | undefined;
  #attempt = 0;

  constructor(
    target: string,
    signal: AbortSignal,
    report: ConnectionReporter = stderrReporter,
    timeoutSeconds = reconnectTimeoutSeconds(),
  ) {
    this.#target = target;
    this.#signal = signal;
    this.#report = report;
    this.#timeoutMs = timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000;
  }

  /** True while an outage lasts. */
  get down(): boolean {
    return this.#downSince !== undefined;
  }

  /**
   * `op`, retried while it fails with a lost connection; `undefined` when the
   * signal aborts first. Other errors pass through; so does the last loss once
   * the reconnect timeout ran out, or the reporter said stop.
   */
  async run<T>(op: () => Promise<T>, probe?: () => Promise<unknown>): Promise<T | undefined> {
    try {
      for (;;) {
        if (this.#signal.aborted) return undefined;
        try {
          const value = await (probe ? this.#probed(op, probe) : op());
          await this.#restored();
          return value;
        } catch (error) {
          if (error instanceof StopWatch) throw error.cause;
          if (!isConnectionLoss(error)) throw error;
          await this.#lost(error as Error);
          if (!(await this.#backoff())) return undefined;
        }
      }
    } finally {
      // Stopped, gave up or failed otherwise while down: this guard no longer waits for the server.
      if (this.#downSince !== undefined) {
        this.#downSince = undefined;
        if (this.#report === stderrReporter) outageLeft(this, this.#target);
      }
    }
  }

  // --- internal ---

  /**
   * `op`; when it has not answered within {@link PROBE_AFTER_MS} (a claim may
   * keep trying for seconds when its answer was lost), `probe` once, which
   * fails at once when the server is gone: the outage is reported then, not
   * only when `op` gives up. A reporter's stop ends the run once `op` settled.
   */
  async #probed<T>(op: () => Promise<T>, probe: () => Promise<unknown>): Promise<T> {
    let stop: StopWatch | undefined;
    let settled = false;
    const timer = setTimeout(() => {
      probe().catch(async (error) => {
        // A probe answering after `op` settled reports nothing: no run is left to end the outage it would start.
        if (settled || !isConnectionLoss(error) || this.#downSince !== undefined) return;
        try {
          await this.#lost(error as Error);
        } catch (fatal) {
          stop = new StopWatch(fatal);
        }
      });
    }, PROBE_AFTER_MS);
    try {
      return await op();
    } finally {
      settled = true;
      clearTimeout(timer);
      // biome-ignore lint/correctness/noUnsafeFinally: a reporter's stop outranks the op's own outcome
      if (stop) throw stop;
    }
  }

  async #lost(error: Error): Promise<void> {
    const now = performance.now();
    if (this.#downSince === undefined) {
      this.#downSince = now;
      this.#attempt = 0;
      if ((await this.#tell({ state: "lost", target: this.#target, error })) === false) throw error;
    }
    if (this.#timeoutMs !== undefined && now - this.#downSince >= this.#timeoutMs) {
      const seconds = this.#timeoutMs / 1000;
      throw new BackendError(
        `Lost connection to ${this.#target} and could not reconnect within ${seconds} s (BROKER_BACKEND_RECONNECT_TIMEOUT): ${error.message}`,
        { cause: error },
      );
    }
  }

  async #restored(): Promise<void> {
    if (this.#downSince === undefined) return;
    const downMs = performance.now() - this.#downSince;
    this.#downSince = undefined;
    await this.#tell({ state: "restored", target: this.#target, downMs });
  }

  /** The reporter's answer; a reporter that throws is named on stderr and the watch goes on. */
  // biome-ignore lint/suspicious/noConfusingVoidType: the reporter's own return type
  async #tell(event: ConnectionEvent): Promise<boolean | void> {
    if (this.#report === stderrReporter) {
      if (event.state === "lost") outageLost(this, event.target);
      else outageRestored(this, event.target);
      return;
    }
    try {
      return await this.#report(event);
    } catch (error) {
      console.error(`Connection reporter failed: ${(error as Error)?.message ?? error}`);
    }
  }

  /** Sleep the next backoff delay (not past the reconnect deadline); false when the signal aborted. */
  async #backoff(): Promise<boolean> {
    const base = Math.min(RETRY_CAP_MS, RETRY_FIRST_MS * 2 ** this.#attempt++);
    let delay = base * (0.75 + Math.random() * 0.25);
    if (this.#timeoutMs !== undefined && this.#downSince !== undefined) {
      delay = Math.min(delay, Math.max(0, this.#downSince + this.#timeoutMs - performance.now()));
    }
    return sleep(delay, this.#signal);
  }
}

/** How long a probed call may take before the probe looks whether the server is there. */
const PROBE_AFTER_MS = 250;

/** A reporter (or the reconnect timeout) ended the watch while a probed call was in flight. */
class StopWatch extends Error {
  constructor(cause: unknown) {
    super("stop", { cause });
  }
}

/** Sleep `ms`; false (at once) when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(value);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
