/**
 * Leases and delayed writes of the synchronous `Queue`, on the SQLite
 * store's synchronous lease methods (the same names and meaning as the
 * Backend capabilities in lib/core/leases.ts; docs/leases.md#library-and-cli).
 * @module
 */
import { ArgumentError } from "../core/errors.ts";
import type { DueTime, HeldStats, LeaseSelection } from "../core/leases.ts";
import { validateMessageSize, validateQueueName } from "../core/validate.ts";
import type { SqliteStore } from "../backends/sqlite/store.ts";
import { checkMs } from "./_broker-leases.ts";
import { type LeaseOptions, SyncLease, type SyncLeaseOps } from "./_lease-handle.ts";
import { nudgeWaiters } from "./_lease-wait.ts";
import { type JobHandler, type ProcessOptions, type ProcessResult, runWorker } from "./_worker.ts";
import { brokerFor } from "../watch/_base-watcher.ts";
import type { BrokerConfig } from "../core/types.ts";

/** Runs a function on a store of the queue's database (the queue's own connection handling). */
export type UseStore = <T>(fn: (store: SqliteStore) => T) => T;

/** The lease operations of one `Queue`. */
export class SyncQueueLeases implements SyncLeaseOps {
  readonly #name: string;
  readonly #use: UseStore;

  constructor(name: string, use: UseStore) {
    this.#name = name;
    this.#use = use;
  }

  /** Lease up to `limit` pending messages (oldest first). */
  lease(limit: number, options: LeaseOptions): SyncLease[] {
    validateQueueName(this.#name);
    if (!Number.isInteger(limit) || limit < 1) throw new ArgumentError("limit must be at least 1");
    const selection: LeaseSelection = {
      leaseMs: checkMs(options.ms, "leaseMs"),
      limit,
      exactId: options.exactId,
      after: options.after,
      before: options.before,
    };
    const got = this.#use((s) => s.lease(this.#name, selection));
    return got.map((m) => new SyncLease(this, this.#name, m));
  }

  ack(queue: string, ids: readonly bigint[], token?: string): bigint[] {
    return this.#use((s) => s.ack(queue, ids, token));
  }

  release(queue: string, ids: readonly bigint[], options: { delayMs?: number; token?: string } = {}): bigint[] {
    const delayMs = options.delayMs === undefined ? undefined : checkMs(options.delayMs, "delayMs");
    return this.#use((s) => {
      const done = s.release(queue, ids, { delayMs, token: options.token });
      if (done.length && delayMs) nudgeWaiters(s.path, queue);
      return done;
    });
  }

  extend(queue: string, id: bigint, leaseMs: number, token?: string): boolean {
    return this.#use((s) => s.extend(queue, id, checkMs(leaseMs, "leaseMs"), token));
  }

  deadLetter(queue: string, ids: readonly bigint[], target: string, token?: string): bigint[] {
    validateQueueName(target);
    if (target === queue) throw new ArgumentError("The dead-letter queue cannot be the queue itself");
    return this.#use((s) => s.deadLetter(queue, ids, target, token));
  }

  /** Write bodies that stay invisible until `due`. */
  writeDelayed(bodies: readonly string[], due: DueTime, maxMessageSize: number): bigint[] {
    validateQueueName(this.#name);
    for (const b of bodies) validateMessageSize(b, maxMessageSize);
    return this.#use((s) => {
      const ids = s.writeDelayed(this.#name, bodies, due);
      nudgeWaiters(s.path, this.#name);
      return ids;
    });
  }

  /** True when the queue holds a leased or delayed message. */
  holdsAny(): boolean {
    const held = this.heldStats();
    return held.leased + held.scheduled > 0;
  }

  /** Leased and scheduled counts of this queue (zeros when nothing is held). */
  heldStats(): HeldStats {
    validateQueueName(this.#name);
    const [row] = this.#use((s) => s.heldStats(this.#name));
    return row ?? { queue: this.#name, leased: 0, scheduled: 0 };
  }
}

/**
 * `Queue.process()`: the worker runs on the broker this process's watchers
 * of the database share (see lib/watch/_shared-broker.ts), with its wake-ups.
 */
export async function processOnTarget(
  path: string,
  config: BrokerConfig,
  queue: string,
  handler: JobHandler,
  options: ProcessOptions,
): Promise<ProcessResult> {
  validateQueueName(queue);
  const { broker, release } = await brokerFor(path, config);
  try {
    return await runWorker(broker.leases, queue, handler, options);
  } finally {
    await release();
  }
}
