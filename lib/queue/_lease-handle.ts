/**
 * Handles on leased messages (docs/leases.md#library-and-cli): `Lease` for
 * `AsyncQueue` (any backend), `SyncLease` for the synchronous SQLite
 * `Queue`. A handle acts only while its own lease holds the message (its
 * token). Disposing a handle that was neither acked, released nor
 * dead-lettered releases it at once: `await using job = await q.lease(…)`.
 * @module
 */
import type { LeasedMessage } from "../core/leases.ts";

/** Options of `lease()`: how long, and which message. */
export interface LeaseOptions {
  /** Lease length in milliseconds (> 0). */
  ms: number;
  /** Exactly the pending message with this id. */
  exactId?: bigint;
  /** Only ids greater than this. */
  after?: bigint;
  /** Only ids less than this. */
  before?: bigint;
}

/** The operations behind an async {@link Lease} (`BrokerLeases` has them). */
export interface AsyncLeaseOps {
  ack(queue: string, ids: readonly bigint[], token?: string): Promise<bigint[]>;
  release(queue: string, ids: readonly bigint[], options?: { delayMs?: number; token?: string }): Promise<bigint[]>;
  extend(queue: string, id: bigint, leaseMs: number, token?: string): Promise<boolean>;
  deadLetter(queue: string, ids: readonly bigint[], target: string, token?: string): Promise<bigint[]>;
}

/** The operations behind a {@link SyncLease}. */
export interface SyncLeaseOps {
  ack(queue: string, ids: readonly bigint[], token?: string): bigint[];
  release(queue: string, ids: readonly bigint[], options?: { delayMs?: number; token?: string }): bigint[];
  extend(queue: string, id: bigint, leaseMs: number, token?: string): boolean;
  deadLetter(queue: string, ids: readonly bigint[], target: string, token?: string): bigint[];
}

/** How a handle ended: still held, or acked, released or dead-lettered (by this handle). */
export type LeaseState = "held" | "acked" | "released" | "dead";

/** The message and lease fields both handles share. */
abstract class LeaseBase {
  /** The queue the message was leased from (alias resolved). */
  readonly queue: string;
  readonly body: string;
  /** The message id; it keeps it when it comes back. */
  readonly ts: bigint;
  /** 1 on the first lease of this message, +1 for each lease after it came back. */
  readonly attempt: number;
  /** This lease's token. */
  readonly token: string;
  /** When the lease ends unless acked, released or extended (ms since the epoch, the store's clock). */
  deadlineMs: number;
  protected state: LeaseState = "held";

  constructor(queue: string, m: LeasedMessage) {
    this.queue = queue;
    this.body = m.body;
    this.ts = m.ts;
    this.attempt = m.attempt;
    this.token = m.token;
    this.deadlineMs = m.deadlineMs;
  }

  /** `held` until this handle acked, released or dead-lettered the message. */
  get status(): LeaseState {
    return this.state;
  }

  /** True once acked, released or dead-lettered through this handle. */
  get settled(): boolean {
    return this.state !== "held";
  }

  /** Record how this handle ended the lease; when `done` is false the lease had already ended otherwise. */
  protected settle(next: LeaseState, done: boolean): boolean {
    this.state = next;
    return done;
  }
}

/** A message leased through an `AsyncQueue`. `await using` releases it unless it was settled. */
export class Lease extends LeaseBase implements AsyncDisposable {
  readonly #ops: AsyncLeaseOps;

  constructor(ops: AsyncLeaseOps, queue: string, m: LeasedMessage) {
    super(queue, m);
    this.#ops = ops;
  }

  /** The work is done: delete the message. False when this lease no longer held it. */
  async ack(): Promise<boolean> {
    return this.settle("acked", (await this.#ops.ack(this.queue, [this.ts], this.token)).length > 0);
  }

  /** Give the message back: pending again at once, or after `delayMs`. False when this lease no longer held it. */
  async release(options: { delayMs?: number } = {}): Promise<boolean> {
    const ids = await this.#ops.release(this.queue, [this.ts], { delayMs: options.delayMs, token: this.token });
    return this.settle("released", ids.length > 0);
  }

  /** Push the deadline to now + `ms`. False when this lease no longer holds the message. */
  async extend(ms: number): Promise<boolean> {
    const ok = await this.#ops.extend(this.queue, this.ts, ms, this.token);
    if (ok) this.deadlineMs = Date.now() + ms;
    return ok;
  }

  /** Move the message to `target` (same id) and end the lease. False when this lease no longer held it. */
  async deadLetter(target: string): Promise<boolean> {
    return this.settle("dead", (await this.#ops.deadLetter(this.queue, [this.ts], target, this.token)).length > 0);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.settled) await this.release();
  }
}

/** A message leased through the synchronous `Queue`. `using` releases it unless it was settled. */
export class SyncLease extends LeaseBase implements Disposable {
  readonly #ops: SyncLeaseOps;

  constructor(ops: SyncLeaseOps, queue: string, m: LeasedMessage) {
    super(queue, m);
    this.#ops = ops;
  }

  ack(): boolean {
    return this.settle("acked", this.#ops.ack(this.queue, [this.ts], this.token).length > 0);
  }

  release(options: { delayMs?: number } = {}): boolean {
    const ids = this.#ops.release(this.queue, [this.ts], { delayMs: options.delayMs, token: this.token });
    return this.settle("released", ids.length > 0);
  }

  extend(ms: number): boolean {
    const ok = this.#ops.extend(this.queue, this.ts, ms, this.token);
    if (ok) this.deadlineMs = Date.now() + ms;
    return ok;
  }

  deadLetter(target: string): boolean {
    return this.settle("dead", this.#ops.deadLetter(this.queue, [this.ts], target, this.token).length > 0);
  }

  [Symbol.dispose](): void {
    if (!this.settled) this.release();
  }
}
