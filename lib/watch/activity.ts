/**
 * Wake-ups: {@link ActivityMonitor} decides when a watcher looks again, from
 * what its backend can do. Native wake-ups (`waitForActivity`) with a slow
 * safety poll; activity hints (`onActivity`: on SQLite a write in this
 * process or a change of the `-wal` file) and a changed `dataVersion`, with
 * SimpleBroker's burst-then-backoff poll; or that poll alone.
 * @module
 */
import type { Backend, BrokerConfig } from "../core/types.ts";

/**
 * When to look again: immediately after activity; on an activity hint or a
 * `dataVersion` change, else a burst of `initialChecks` quick checks and a
 * backoff to `maxInterval` (with jitter); on backends with native wake-ups,
 * their notification or a slow fallback poll.
 */
export class ActivityMonitor {
  readonly #backend: Backend;
  readonly #config: BrokerConfig;
  readonly #native: boolean;
  #dirty = false;
  #count = 0;
  #dataVersion: bigint | undefined;
  #wake: (() => void) | undefined;
  #closers: Array<() => void> = [];
  #nativeStop = new AbortController();

  constructor(backend: Backend, queues: string[], config: BrokerConfig) {
    this.#backend = backend;
    this.#config = config;
    this.#native = backend.waitForActivity !== undefined;
    const wanted = new Set(queues);
    if (this.#native) void this.#nativeLoop(queues);
    else if (backend.onActivity) this.#closers.push(backend.onActivity((q) => (q === "*" || wanted.has(q)) && this.poke()));
  }

  /** Something was just processed: look again without waiting. */
  markActive(): void {
    this.#dirty = true;
    this.#count = 0;
  }

  /** Resolve when it is worth checking the queue again. */
  async wait(signal: AbortSignal): Promise<void> {
    if (this.#dirty) {
      this.#dirty = false;
      return;
    }
    if (await this.#dataVersionChanged()) return;
    let remaining = this.#nextDelayMs();
    this.#count++;
    // Long sleeps go in chunks, re-checking data_version between them (docs/compatibility.md#watchers), so a
    // commit whose -wal event was missed is still seen within one chunk.
    for (;;) {
      const chunk = this.#native ? remaining : Math.min(remaining, SLEEP_CHUNK_MS);
      await this.#sleep(chunk, signal);
      remaining -= chunk;
      if (this.#dirty) {
        this.#dirty = false;
        this.#count = 0;
        return;
      }
      if (signal.aborted || (await this.#dataVersionChanged())) return;
      if (remaining > 0) continue;
      // Nothing changed during a quick burst sleep: take the next one without returning
      // to the caller's pending pre-check. On SQLite data_version covers every other
      // connection, and writes through this one notify, so the check would find nothing.
      if (this.#native || this.#dataVersion === undefined || this.#count >= this.#config.initialChecks) return;
      remaining = this.#nextDelayMs();
      this.#count++;
    }
  }

  close(): void {
    this.#nativeStop.abort();
    for (const c of this.#closers) c();
    this.#closers = [];
    this.#wake?.();
  }

  /** Something happened (a notification, a -wal change, a hand-over): end a pending {@link wait} now. */
  poke(): void {
    // A -wal event comes before the commit is visible (the writer still has to sync), so
    // restart the burst of quick checks even when the event arrives between two waits.
    this.#dirty = true;
    this.#count = 0;
    this.#wake?.();
  }

  // --- internal ---

  /**
   * Sleep `ms` or until woken. Below 1 ms (the burst sleep of 10 µs) Bun's timers cannot
   * help (they wait at least 1 ms) and setImmediate would spin a core, starving the
   * writer whose commit we are waiting for; Atomics.waitAsync sleeps that long for real.
   */
  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        signal.removeEventListener("abort", done);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      signal.addEventListener("abort", done, { once: true });
      if (signal.aborted) done();
      else if (ms >= 1) timer = setTimeout(done, ms);
      else {
        const cell = ms > 0 ? getSleepCell() : null;
        if (!cell) setImmediate(done);
        else {
          const result = Atomics.waitAsync(cell, 0, 0, ms);
          if (result.async) void result.value.then(done);
          else setImmediate(done);
        }
      }
    });
  }

  async #dataVersionChanged(): Promise<boolean> {
    if (!this.#backend.dataVersion) return false;
    try {
      const v = await this.#backend.dataVersion();
      const changed = this.#dataVersion !== undefined && v !== this.#dataVersion;
      this.#dataVersion = v;
      return changed;
    } catch {
      return false;
    }
  }

  #nextDelayMs(): number {
    const { initialChecks, maxInterval, jitterFactor, burstSleep } = this.#config;
    const maxMs = maxInterval * 1000;
    if (this.#native) return (1 + Math.random()) * Math.max(1000, 10 * maxMs);
    if (this.#count < initialChecks) return Math.max(0, burstSleep * 1000);
    const base = Math.min(((this.#count - initialChecks + 1) / 100) * maxMs, maxMs);
    return base * (1 - jitterFactor + Math.random() * 2 * jitterFactor);
  }

  async #nativeLoop(queues: string[]): Promise<void> {
    const signal = this.#nativeStop.signal;
    while (!signal.aborted) {
      try {
        if (await this.#backend.waitForActivity!(queues, 5000, signal)) this.poke();
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

// --- internal ---

/** Longest single sleep between data_version checks while backing off: 20 ms, as in 3.6.1. */
const SLEEP_CHUNK_MS = 20;
/** A cell nobody ever notifies: Atomics.waitAsync on it is a sub-millisecond sleep. */
let sleepCell: Int32Array | null | undefined;

/** The sleep cell, made on first use: SharedArrayBuffer costs a fresh process ~0.5 ms to set up, paid only by waiters. */
function getSleepCell(): Int32Array | null {
  if (sleepCell === undefined) sleepCell = typeof Atomics.waitAsync === "function" ? new Int32Array(new SharedArrayBuffer(4)) : null;
  return sleepCell;
}
