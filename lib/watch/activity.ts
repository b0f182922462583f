/**
 * Wake-ups. In-process: a write, move or broadcast in this process wakes this
 * process's watchers of that store at once, without waiting for a poll.
 * {@link ActivityMonitor} decides when a watcher looks again, combining that
 * with inotify on the -wal file, `PRAGMA data_version` polling, or a
 * backend's native notifications.
 * @module
 */
import { fs } from "../util/fs-lazy.ts";
import type { FSWatcher } from "node:fs";
import { basename, dirname } from "../util/posix-path.ts";
import type { Backend, BrokerConfig, Message } from "../core/types.ts";

type Listener = (queue: string) => void;
const listeners = new Map<string, Set<Listener>>();

/**
 * A watcher of this process waiting on a queue with nothing left for it. A
 * single-message write to that queue through any connection of this process
 * hands the message over directly, decided inside the write's transaction when
 * nothing older is pending for the watcher (like a Redis BLPOP client served
 * by the push itself): a consuming watcher gets it inserted already claimed,
 * saving its claim transaction and fsync; a peeking watcher gets a copy,
 * saving the re-read of the pages the write changed.
 */
export interface IdleConsumer {
  /** Only messages with a greater id are handed over (the watch's `after`, or the last id a peek saw). */
  readonly after: bigint | undefined;
  /** True for a consuming watcher: the message is inserted claimed for it. */
  readonly claims: boolean;
  /** Receive the message after the commit. Called at most once: the offer ends with it. */
  accept(message: Message): void;
}

const idleConsumers = new Map<string, IdleConsumer[]>();
const NONE: IdleConsumer[] = [];
const idleKey = (store: string, queue: string) => `${store}\0${queue}`;

/** Offer `consumer` for hand-overs on `queue` of `store` until the returned function is called or it accepts one. */
export function offerIdleConsumer(store: string, queue: string, consumer: IdleConsumer): () => void {
  const key = idleKey(store, queue);
  let list = idleConsumers.get(key);
  if (!list) idleConsumers.set(key, (list = []));
  list.push(consumer);
  return () => withdraw(key, consumer);
}

/** The consumers waiting on `queue` of `store` that may take a message with id `ts`, oldest offer first. */
export function idleConsumersFor(store: string, queue: string, ts: bigint): IdleConsumer[] {
  if (idleConsumers.size === 0) return NONE;
  const list = idleConsumers.get(idleKey(store, queue));
  if (!list) return NONE;
  const out: IdleConsumer[] = [];
  for (const c of list) if (c.after === undefined || ts > c.after) out.push(c);
  return out;
}

/** Hand a committed message to `consumer` (claimed for it when it claims), which stops being offered. */
export function handOver(store: string, queue: string, consumer: IdleConsumer, message: Message): void {
  withdraw(idleKey(store, queue), consumer);
  consumer.accept(message);
}

function withdraw(key: string, consumer: IdleConsumer): void {
  const list = idleConsumers.get(key);
  if (!list) return;
  const i = list.indexOf(consumer);
  if (i !== -1) list.splice(i, 1);
  if (list.length === 0) idleConsumers.delete(key);
}

/** Tell this process's watchers of `store` that `queue` changed (`*` = any queue). */
export function notifyActivity(store: string, queue: string): void {
  const set = listeners.get(store);
  if (set) for (const fn of set) fn(queue);
}

/** Listen for activity on `store`; returns the function that stops listening. */
export function onActivity(store: string, fn: Listener): () => void {
  let set = listeners.get(store);
  if (!set) listeners.set(store, (set = new Set()));
  set.add(fn);
  return () => {
    set.delete(fn);
    if (set.size === 0) listeners.delete(store);
  };
}

/**
 * Resolve true when activity on one of `queues` of `store` is notified, or
 * false after `timeoutMs` or when `signal` aborts.
 */
export function waitForLocalActivity(
  store: string,
  queues: string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const wanted = new Set(queues);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (value: boolean) => {
      off();
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(value);
    };
    const onAbort = () => finish(false);
    const off = onActivity(store, (queue) => {
      if (queue === "*" || wanted.has(queue)) finish(true);
    });
    timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * When to look again: immediately after activity; on SQLite on an in-process
 * notification, a `-wal` change or a `data_version` change, else a burst of
 * `initialChecks` quick checks and a backoff to `maxInterval` (with jitter);
 * on backends with native wake-ups, their notification or a slow fallback poll.
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
    this.#native = backend.name !== "sqlite" && backend.waitForActivity !== undefined;
    const wanted = new Set(queues);
    if (backend.name === "sqlite") {
      const path = backend.displayTarget;
      this.#closers.push(onActivity(path, (q) => (q === "*" || wanted.has(q)) && this.poke()));
      this.#closers.push(watchWal(path, () => this.poke()));
    } else if (this.#native) {
      void this.#nativeLoop(queues);
    }
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

/** inotify on the database's folder, filtered to its -wal file: another process committed. */
function watchWal(dbPath: string, onChange: () => void): () => void {
  const wal = `${basename(dbPath)}-wal`;
  let watcher: FSWatcher | undefined;
  try {
    watcher = fs().watch(dirname(dbPath), { persistent: false }, (_event, file) => {
      if (file === wal) onChange();
    });
    watcher.on("error", () => {});
  } catch {
    return () => {};
  }
  return () => watcher?.close();
}
