/**
 * Wake-ups through LISTEN/NOTIFY: one subscription per backend instance,
 * shared by every waiter. A notification carries a queue name (`*` = all);
 * waiters of that queue resolve true. Bun re-subscribes after a dropped
 * connection; as notifications may have been missed meanwhile, every waiter
 * then resolves true so callers re-check.
 * @module
 */
import type { SQL } from "bun";

interface Waiter {
  queues: Set<string>;
  finish(value: boolean): void;
}

/** The LISTEN side of one backend instance. */
export class ActivityListener {
  readonly channel: string;
  readonly #pool: () => SQL;
  readonly #waiters = new Set<Waiter>();
  #subscription: Promise<SQL.ListenSubscription> | undefined;
  #acks = 0;
  #closed = false;

  /** `pool` returns the current pool (opened lazily by the backend). */
  constructor(channel: string, pool: () => SQL) {
    this.channel = channel;
    this.#pool = pool;
  }

  /** Resolve once the LISTEN is acknowledged (subscribing if needed); rejects on connection failure. */
  async ready(): Promise<void> {
    if (this.#closed) return;
    this.#subscription ??= this.#subscribe();
    await this.#subscription;
  }

  /**
   * True when one of `queues` (or `*`) is notified; false after `timeoutMs`
   * or on abort. Connection failures only delay: the timeout still applies.
   */
  wait(queues: string[], timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    // Once closed, only the timeout applies (no busy loop in callers that keep waiting).
    if (!this.#closed) {
      this.ready().catch(() => {
        // retried by the next wait; the caller's fallback poll covers the gap
      });
    }
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        queues: new Set(queues),
        finish: (value) => {
          if (!this.#waiters.delete(waiter)) return;
          if (timer) clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve(value);
        },
      };
      const onAbort = () => waiter.finish(false);
      this.#waiters.add(waiter);
      timer = setTimeout(() => waiter.finish(false), Math.max(0, timeoutMs));
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Stop listening; pending waiters resolve false. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of [...this.#waiters]) w.finish(false);
    const sub = this.#subscription;
    this.#subscription = undefined;
    this.#acks = 0;
    if (sub) {
      try {
        await (await sub).unlisten();
      } catch {
        // never subscribed, or the connection is gone already
      }
    }
  }

  /** Listen again after {@link close} (the backend opened a new pool). */
  reopen(): void {
    if (!this.#closed) return;
    this.#closed = false;
    this.#acks = 0;
  }

  // --- internal ---

  #subscribe(): Promise<SQL.ListenSubscription> {
    const attempt = this.#pool().listen(
      this.channel,
      (payload) => this.#deliver(payload),
      () => {
        // The first acknowledgement is the subscription itself; later ones follow a reconnect.
        if (this.#acks++ > 0) this.#deliver("*");
      },
    );
    attempt.catch(() => {
      if (this.#subscription === attempt) this.#subscription = undefined;
    });
    return attempt;
  }

  #deliver(queue: string): void {
    for (const w of [...this.#waiters]) {
      if (queue === "*" || w.queues.has(queue)) w.finish(true);
    }
  }
}
