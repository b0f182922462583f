/**
 * One wake-up source per backend for all the watchers on it (issue: a
 * thousand watchers must cost little more than one). For a backend that can
 * tell when another connection committed (`dataVersion`, SQLite's `PRAGMA
 * data_version`), the hub alone polls it, on SimpleBroker's
 * burst-then-backoff schedule, restarting the burst on every activity hint
 * (on SQLite a change of the `-wal` file); it alone listens to those hints;
 * and after a change it asks once per watched queue whether anything is
 * pending, waking only the watchers of queues that have something. A write
 * of this process to a queue wakes that queue's watchers at once.
 * @module
 */
import type { Backend, BrokerConfig } from "../core/types.ts";
import { earliestDue } from "./_due.ts";

type Poke = () => void;

/**
 * Subscribe `poke` to the hub of `backend` for `queues` (`*` entries are not
 * expected); returns the function that unsubscribes. The hub starts with its
 * first subscriber and stops with its last.
 */
export function subscribeWakeHub(backend: Backend, config: BrokerConfig, queues: Iterable<string>, poke: Poke): () => void {
  let hub = hubs.get(backend);
  if (!hub) hubs.set(backend, (hub = new WakeHub(backend, config)));
  const h = hub;
  const list = [...queues];
  for (const q of list) h.add(q, poke);
  return () => {
    for (const q of list) h.remove(q, poke);
    if (h.empty) {
      hubs.delete(backend);
      h.stop();
    }
  };
}

/** True when {@link subscribeWakeHub} applies: the backend can tell that another connection committed. */
export function usesWakeHub(backend: Backend): boolean {
  return backend.waitForActivity === undefined && backend.dataVersion !== undefined;
}

/**
 * Sleep `ms` or until `wake` (given to `setWake`) or `signal` ends it. Below
 * 1 ms (a burst sleep of 10 µs) Bun's timers cannot help (they wait at least
 * 1 ms) and setImmediate would spin a core, starving the writer whose commit
 * we are waiting for; Atomics.waitAsync sleeps that long for real.
 */
export function sleepUnlessWoken(
  ms: number,
  signal: AbortSignal | undefined,
  setWake: (wake: (() => void) | undefined) => void,
): Promise<void> {
  return new Promise<void>((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      setWake(undefined);
      resolve();
    };
    setWake(done);
    signal?.addEventListener("abort", done, { once: true });
    if (signal?.aborted) done();
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

/** Delay before the `count`-th check since the last activity: a burst of quick checks, then a backoff with jitter. */
export function backoffDelayMs(count: number, config: BrokerConfig): number {
  const { initialChecks, maxInterval, jitterFactor, burstSleep } = config;
  const maxMs = maxInterval * 1000;
  if (count < initialChecks) return Math.max(0, burstSleep * 1000);
  const base = Math.min(((count - initialChecks + 1) / 100) * maxMs, maxMs);
  return base * (1 - jitterFactor + Math.random() * 2 * jitterFactor);
}

// --- internal ---

const hubs = new WeakMap<Backend, WakeHub>();

class WakeHub {
  readonly #backend: Backend;
  readonly #config: BrokerConfig;
  readonly #byQueue = new Map<string, Set<Poke>>();
  readonly #stop = new AbortController();
  readonly #offHints: (() => void) | undefined;
  /** Read when the hub starts, before any subscriber's first look at its queue, so no commit falls in between. */
  #version: Promise<bigint> | undefined;
  #count = 0;
  #wake: (() => void) | undefined;

  constructor(backend: Backend, config: BrokerConfig) {
    this.#backend = backend;
    this.#config = config;
    this.#version = backend.dataVersion?.().catch(() => -1n);
    this.#offHints = backend.onActivity?.((queue) => (queue === "*" ? this.#hint() : this.#pokeQueue(queue)));
    void this.#loop();
  }

  get empty(): boolean {
    return this.#byQueue.size === 0;
  }

  add(queue: string, poke: Poke): void {
    let set = this.#byQueue.get(queue);
    if (!set) this.#byQueue.set(queue, (set = new Set()));
    set.add(poke);
  }

  remove(queue: string, poke: Poke): void {
    const set = this.#byQueue.get(queue);
    if (!set) return;
    set.delete(poke);
    if (set.size === 0) this.#byQueue.delete(queue);
  }

  stop(): void {
    this.#stop.abort();
    this.#offHints?.();
    this.#wake?.();
  }

  /** A change that may not be committed yet (a `-wal` write): check again at once and restart the burst. */
  #hint(): void {
    this.#count = 0;
    this.#wake?.();
  }

  #pokeQueue(queue: string): void {
    const set = this.#byQueue.get(queue);
    if (set) for (const poke of [...set]) poke();
  }

  async #loop(): Promise<void> {
    const signal = this.#stop.signal;
    let seen = await this.#version;
    while (!signal.aborted) {
      await sleepUnlessWoken(backoffDelayMs(this.#count++, this.#config), signal, (w) => (this.#wake = w));
      if (signal.aborted) return;
      let now: bigint;
      try {
        now = await this.#backend.dataVersion!();
      } catch {
        continue; // the store is closing or busy: look again on the next tick
      }
      if (now === seen) continue;
      seen = now;
      this.#count = 0;
      await this.#scan();
    }
  }

  /** Another connection committed: wake the watchers of every queue that now has something pending. */
  async #scan(): Promise<void> {
    for (const queue of [...this.#byQueue.keys()]) {
      let pending: boolean;
      try {
        pending = await this.#backend.hasPending(queue);
      } catch {
        pending = true; // let the watcher look, and meet the error itself
      }
      if (pending || (await this.#heldChanged(queue))) this.#pokeQueue(queue);
    }
  }

  /** Earliest due time of each watched queue's held messages, as last seen (docs/leases.md). */
  readonly #earliestDue = new Map<string, number | undefined>();

  /**
   * Whether the earliest held message of `queue` changed (another process leased, released or delayed
   * one): its watchers then set their due timer again (lib/watch/_due.ts).
   */
  async #heldChanged(queue: string): Promise<boolean> {
    const due = await earliestDue(this.#backend, [queue]).catch(() => undefined);
    const changed = due !== this.#earliestDue.get(queue);
    if (due === undefined) this.#earliestDue.delete(queue);
    else this.#earliestDue.set(queue, due);
    return changed;
  }
}

/** A cell nobody ever notifies: Atomics.waitAsync on it is a sub-millisecond sleep. */
let sleepCell: Int32Array | null | undefined;

/** The sleep cell, made on first use: SharedArrayBuffer costs a fresh process ~0.5 ms to set up, paid only by waiters. */
function getSleepCell(): Int32Array | null {
  if (sleepCell === undefined)
    sleepCell = typeof Atomics.waitAsync === "function" ? new Int32Array(new SharedArrayBuffer(4)) : null;
  return sleepCell;
}
