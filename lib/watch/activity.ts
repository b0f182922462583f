/**
 * Wake-ups: {@link ActivityMonitor} decides when a watcher looks again, from
 * what its backend can do. Native wake-ups (`waitForActivity`) with a slow
 * safety poll; activity hints (`onActivity`: on SQLite a write in this
 * process or a change of the `-wal` file) and a changed `dataVersion`, with
 * SimpleBroker's burst-then-backoff poll; or that poll alone.
 * @module
 */
import type { Backend, BrokerConfig } from "../core/types.ts";
import { backoffDelayMs, sleepUnlessWoken, subscribeWakeHub, usesWakeHub } from "./wake-hub.ts";
import { msUntilDue } from "./_due.ts";

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
  /** Woken by the backend's shared {@link subscribeWakeHub} hub, which alone polls for other connections' commits. */
  readonly #hub: boolean;
  #dirty = false;
  #count = 0;
  #dataVersion: bigint | undefined;
  #wake: (() => void) | undefined;
  #closers: Array<() => void> = [];
  #nativeStop = new AbortController();
  readonly #queues: string[];

  constructor(backend: Backend, queues: string[], config: BrokerConfig) {
    this.#backend = backend;
    this.#queues = queues;
    this.#config = config;
    this.#native = backend.waitForActivity !== undefined;
    this.#hub = usesWakeHub(backend);
    const wanted = new Set(queues);
    if (this.#native) void this.#nativeLoop(queues);
    else if (this.#hub) this.#closers.push(subscribeWakeHub(backend, config, wanted, () => this.poke()));
    else if (backend.onActivity) this.#closers.push(backend.onActivity((q) => (q === "*" || wanted.has(q)) && this.poke()));
  }

  /**
   * Something was just processed: look again without waiting. With native
   * wake-ups the caller already looks again after a take that got messages,
   * and a write since then notifies (and pokes), so nothing is owed: the next
   * wait waits (docs/outages.md#wake-ups-and-round-trips).
   */
  markActive(): void {
    this.#count = 0;
    if (!this.#native) this.#dirty = true;
  }

  /** True when wake-ups are the backend's own notifications: a wake-up is worth a claim at once, without a pending check first. */
  get native(): boolean {
    return this.#native;
  }

  /** Resolve when it is worth checking the queue again. */
  async wait(signal: AbortSignal): Promise<void> {
    if (this.#dirty) {
      this.#dirty = false;
      return;
    }
    if (this.#hub) {
      // The hub pokes this monitor when its queue may have something (it sees every commit of another
      // connection; writes through this one notify), so the timeout is a safety net only.
      // Nobody writes when a held message of the queue falls due (a lease runs out, a delay ends): look then.
      const safetyMs = Math.max(5000, 50 * this.#config.maxInterval * 1000) * (0.5 + Math.random());
      const dueMs = await msUntilDue(this.#backend, this.#queues).catch(() => undefined);
      await this.#sleep(Math.min(safetyMs, dueMs ?? safetyMs), signal);
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

  /** Sleep `ms` or until poked or aborted. */
  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return sleepUnlessWoken(ms, signal, (wake) => (this.#wake = wake));
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
    if (this.#native) return (1 + Math.random()) * Math.max(1000, 10 * this.#config.maxInterval * 1000);
    return backoffDelayMs(this.#count, this.#config);
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
