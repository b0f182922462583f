/**
 * How a worker (`process()`) waits for work on a queue with nothing to
 * lease: the wake-ups watchers use (lib/watch/activity.ts: in-process
 * hand-over, cross-process wake-ups, the safety poll), plus a timer for the
 * earliest held message of the queue falling due (a lease deadline, a
 * delayed message), since nobody writes when that happens.
 * @module
 */
import type { Backend, BrokerConfig } from "../core/types.ts";
import { ActivityMonitor } from "../watch/activity.ts";

/** Held rows looked at to find the earliest due time; with more, the wait is capped at {@link CAP_MS}. */
const HELD_PAGE = 1000;
/** Longest wait when the earliest due time is not known (more held rows than one page). */
const CAP_MS = 1000;
/** Margin after a due time, so the look that follows finds the message due. */
const MARGIN_MS = 2;

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
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const dueIn = await this.#nextDueInMs();
      if (dueIn !== undefined) timer = setTimeout(() => stop.abort(), dueIn);
      await this.#monitor.wait(stop.signal);
    } finally {
      if (timer) clearTimeout(timer);
      withdraw?.();
      signal.removeEventListener("abort", onAbort);
    }
  }

  close(): void {
    this.#monitor.close();
  }

  /** Milliseconds until the earliest held message of the queue is due (undefined: none held). */
  async #nextDueInMs(): Promise<number | undefined> {
    if (!this.#backend.peekHeld) return undefined;
    const held = await this.#backend.peekHeld(this.#queue, { limit: HELD_PAGE });
    if (held.length === 0) return undefined;
    let due = Number.POSITIVE_INFINITY;
    for (const h of held) due = Math.min(due, h.dueMs);
    const wait = Math.max(0, due - Date.now()) + MARGIN_MS;
    return held.length >= HELD_PAGE ? Math.min(wait, CAP_MS) : wait;
  }
}
