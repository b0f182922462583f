/**
 * Wake-ups through LISTEN/NOTIFY: one subscription per backend instance,
 * shared by every waiter. A notification carries a queue name (`*` = all);
 * waiters of that queue resolve true. When the connection is lost the
 * subscription is dropped (rather than left to the driver's own slow,
 * noisy retries) and made again every second or sooner while someone waits,
 * so wake-ups are back within a second of the server (docs/outages.md); as
 * notifications may have been missed meanwhile, every waiter then resolves
 * true so callers re-check.
 * @module
 */
import type { SQL } from "bun";
import { isConnectionLoss } from "../connection-loss.ts";
import { onConnectionClosed } from "./connection.ts";

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
  /** The pool whose connection losses this listener hears about. */
  #watched: SQL | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #retryMs = RETRY_MIN_MS;

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
    clearTimeout(this.#retry);
    this.#retry = undefined;
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
    const pool = this.#pool();
    if (this.#watched !== pool) {
      this.#watched = pool;
      onConnectionClosed(pool, (error) => this.#lost(error, pool));
    }
    const attempt = pool.listen(
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

  /** A connection of `pool` closed on `error`: when the server went away, drop the subscription and make it again. */
  #lost(error: Error, pool: SQL): void {
    const code = (error as { code?: unknown }).code;
    if (this.#closed || this.#watched !== pool || !isConnectionLoss(error)) return;
    if (code === "ERR_POSTGRES_IDLE_TIMEOUT" || code === "ERR_POSTGRES_LIFETIME_TIMEOUT") return;
    const sub = this.#subscription;
    if (!sub) return;
    this.#subscription = undefined;
    // #acks stays above 0: whichever call subscribes again (a new wait, or the retry below), the
    // acknowledgement of that LISTEN wakes every waiter, as a NOTIFY sent before it was lost.
    sub.then((s) => s.unlisten()).catch(() => {});
    this.#deliver("*");
    this.#scheduleRetry();
  }

  /** Subscribe again soon while someone waits; every waiter re-checks once it is back. */
  #scheduleRetry(): void {
    if (this.#retry || this.#closed) return;
    const delay = this.#retryMs * (0.75 + Math.random() * 0.25);
    this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#closed || this.#subscription || this.#waiters.size === 0) return;
      this.ready().then(
        () => {
          this.#retryMs = RETRY_MIN_MS;
          this.#deliver("*");
        },
        () => this.#scheduleRetry(),
      );
    }, delay);
  }

  #deliver(queue: string): void {
    for (const w of [...this.#waiters]) {
      if (queue === "*" || w.queues.has(queue)) w.finish(true);
    }
  }
}

/** Re-subscription delays after a lost connection: doubling from the first to the cap. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 800;
