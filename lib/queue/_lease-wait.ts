/**
 * How a worker (`process()`) waits for work on a queue with nothing to
 * lease: the wake-ups watchers use (lib/watch/activity.ts: in-process
 * hand-over, cross-process wake-ups, the safety poll), plus a timer for the
 * earliest held message of the queue falling due (a lease deadline, a
 * delayed message), since nobody writes when that happens. A delayed write
 * or release of this process nudges the queue's waiters at once (it makes
 * nothing pending, so the watchers' wake-ups stay quiet); one of another
 * process is seen within {@link IDLE_CAP_MS}.
 * @module
 */
import type { Backend, BrokerConfig } from "../core/types.ts";
import { ActivityMonitor } from "../watch/activity.ts";
import { msUntilDue } from "../watch/_due.ts";

/** Longest idle wait: another process's delayed write or delayed release is noticed within this. */
const IDLE_CAP_MS = 1000;

/** Waiters of this process, by store (its local file, else the backend object) and queue. */
const waiting = new Map<unknown, Map<string, Set<() => void>>>();

/** Tell this process's waiters on `queue` of `store` that a message was held for later (a delayed write or release). */
export function nudgeWaiters(store: Backend | string, queue: string): void {
  const key = typeof store === "string" ? store : (store.localFile ?? store);
  for (const poke of waiting.get(key)?.get(queue) ?? []) poke();
}

/** Waits for work on one queue (name resolved); close it when done. */
export class LeaseWaiter {
  readonly #backend: Backend;
  readonly #queue: string;
  readonly #monitor: ActivityMonitor;

  constructor(backend: Backend, config: BrokerConfig, queue: string) {
    this.#backend = backend;
    this.#queue = queue;
    this.#monitor = new ActivityMonitor(backend, [queue], config);
  }

  /** Something was just leased: the next {@link wait} returns at once. */
  markActive(): void {
    this.#monitor.markActive();
  }

  /** Resolve when it is worth trying to lease again, or when `signal` aborts. */
  async wait(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    // A write of this process to the queue pokes the monitor (a copy is offered, nothing is claimed for us).
    const withdraw = this.#backend.offerIdle?.(this.#queue, {
      after: undefined,
      claims: false,
      accept: () => this.#monitor.poke(),
    });
    const key = this.#backend.localFile ?? this.#backend;
    const byQueue = waiting.get(key) ?? new Map<string, Set<() => void>>();
    waiting.set(key, byQueue);
    const pokes = byQueue.get(this.#queue) ?? new Set<() => void>();
    byQueue.set(this.#queue, pokes);
    const nudged = () => stop.abort();
    pokes.add(nudged);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const dueIn = Math.min(IDLE_CAP_MS, (await msUntilDue(this.#backend, [this.#queue])) ?? IDLE_CAP_MS);
      timer = setTimeout(() => stop.abort(), dueIn);
      await this.#monitor.wait(stop.signal);
    } finally {
      clearTimeout(timer);
      withdraw?.();
      signal.removeEventListener("abort", onAbort);
      pokes.delete(nudged);
      if (pokes.size === 0) byQueue.delete(this.#queue);
      if (byQueue.size === 0) waiting.delete(key);
    }
  }

  close(): void {
    this.#monitor.close();
  }
}
