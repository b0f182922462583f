/**
 * Leases and delayed messages on SQLite (docs/leases.md#sqlite): the
 * synchronous {@link import("../../core/leases.ts").LeaseCapabilities} of
 * {@link import("./store.ts").SqliteStore}. A held message lives in the side
 * table `broker_held`, created on first use, and goes back to `messages`
 * under its id and row id when it is due. Every reader of a queue returns
 * that queue's due messages first; where the side table does not exist that
 * costs a claim one `PRAGMA schema_version` per {@link HELD_RECHECK_MS} at most.
 * @module
 */
import { ArgumentError } from "../../core/errors.ts";
import type { DueTime, HeldStats, LeasedMessage, LeaseSelection } from "../../core/leases.ts";
import type { Message, QueueStats, VacuumResult } from "../../core/types.ts";
import { nextHybridTimestamp, wallClockNs } from "../../time/timestamp.ts";
import { SqliteAdmin } from "./_admin.ts";
import * as sql from "./_leases-sql.ts";
import { selectionWhere, type Row } from "./_sql.ts";
import { notifyActivity } from "./local.ts";

/** How long a connection trusts the side tables are still absent (reading it per claim: ~4 µs of read --all's ~33). */
const HELD_RECHECK_MS = 10;
/** A held message as {@link SqliteLeases.peekHeld} shows it. */
export type HeldMessage = Message & { leased: boolean; dueMs: number; attempt: number };

/** Leases, delays and the return of due held messages on one connection. */
export class SqliteLeases extends SqliteAdmin {
  /** Whether `broker_held` exists, the schema cookie it was last looked up under and when (per connection). */
  #held: { schema: bigint; exists: boolean; at: number } | undefined;

  /** Take the oldest pending messages matching `selection` under one new lease (docs/leases.md#the-model). */
  lease(queue: string, selection: LeaseSelection): LeasedMessage[] {
    this.guard("lease");
    const leaseMs = positiveMs(selection.leaseMs, "leaseMs");
    const limit = selection.limit ?? 1;
    if (limit <= 0) return [];
    const token = crypto.randomUUID();
    return this.#creating(() => {
      this.#createTables();
      const now = Date.now();
      this.returnDueIn(queue, now);
      const { where, params } = selectionWhere(queue, selection, true);
      const rows = this.stmt(
        `DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE ${where} ORDER BY id LIMIT ?) RETURNING id, body, ts`,
      ).all(...params, limit) as Row[];
      rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const deadlineMs = now + leaseMs;
      return rows.map((r) => {
        const before = this.stmt(sql.TAKE_ATTEMPT_SQL).get(r.ts) as { attempt: bigint } | null;
        const attempt = Number(before?.attempt ?? 0n) + 1;
        this.stmt(sql.HOLD_SQL).run(r.ts, r.id, queue, r.body, deadlineMs, attempt, token);
        return { body: r.body, ts: r.ts, attempt, deadlineMs, token };
      });
    });
  }

  /** Delete leased messages for good; returns the ids acked, in id order. */
  ack(queue: string, ids: readonly bigint[], token?: string): bigint[] {
    this.guard("ack");
    return this.#onLeased(queue, ids, token, (row) => this.stmt(sql.FORGET_ONE_SQL).run(row.ts));
  }

  /** End leases without acking: pending again now, or held without a token until `delayMs` from now. */
  release(queue: string, ids: readonly bigint[], options: { delayMs?: number; token?: string } = {}): bigint[] {
    this.guard("release");
    const delayMs = Math.ceil(options.delayMs ?? 0);
    if (!(delayMs >= 0 && Number.isFinite(delayMs))) throw new ArgumentError("delayMs must be a number >= 0");
    const released = this.#onLeased(queue, ids, options.token, (row, now) => {
      if (delayMs > 0) this.stmt(sql.DELAY_ONE_SQL).run(now + delayMs, row.ts);
      else this.#returnOne(row, queue, true);
    });
    if (released.length && delayMs === 0) notifyActivity(this.path, queue);
    return released;
  }

  /** Set a lease's deadline to now + `leaseMs`; false when the message is not under that lease any more. */
  extend(queue: string, id: bigint, leaseMs: number, token?: string): boolean {
    this.guard("extend");
    const ms = positiveMs(leaseMs, "leaseMs");
    const extended = this.#onLeased(queue, [id], token, (row, now) => this.stmt(sql.EXTEND_SQL).run(now + ms, row.ts));
    return extended.length === 1;
  }

  /** End leases by moving the messages to `target`, pending, same id; returns the ids moved. */
  deadLetter(queue: string, ids: readonly bigint[], target: string, token?: string): bigint[] {
    this.guard("deadLetter");
    const moved = this.#onLeased(queue, ids, token, (row) => this.#returnOne(row, target, false));
    if (moved.length) notifyActivity(this.path, target);
    return moved;
  }

  /** Write `bodies` held until `due` (this process's clock); ids (and row ids) are allocated now, as for a write. */
  writeDelayed(queue: string, bodies: readonly string[], due: DueTime): bigint[] {
    this.guard("writeDelayed");
    const dueMs = "atMs" in due ? due.atMs : Date.now() + due.delayMs;
    if (!Number.isFinite(dueMs)) throw new ArgumentError("The due time must be a finite number of ms");
    if (bodies.length === 0) return [];
    return this.#creating(() => {
      this.#createTables();
      const seq = (this.stmt(sql.SEQ_SQL).get() as { seq: bigint } | null)?.seq;
      const base = seq ?? (this.stmt(sql.MAX_ID_SQL).get() as { m: bigint }).m;
      // The row ids come from AUTOINCREMENT's counter, so later writes get larger ones.
      const top = base + BigInt(bodies.length);
      if (seq === undefined) this.stmt(sql.SEQ_INSERT_SQL).run(top);
      else this.stmt(sql.SEQ_SET_SQL).run(top);
      let last = this.lastTs();
      const out: bigint[] = new Array(bodies.length);
      const hold = this.stmt(sql.HOLD_SQL);
      for (let i = 0; i < bodies.length; i++) {
        last = nextHybridTimestamp(last, wallClockNs());
        hold.run(last, base + BigInt(i + 1), queue, bodies[i]!, Math.trunc(dueMs), 0, null);
        out[i] = last;
      }
      this.advance(last);
      return out;
    });
  }

  /** Return the due held messages of `queue` (every queue when omitted) to pending; returns how many. */
  promoteDue(queue?: string): number {
    if (!this.heldTablesExist()) return 0;
    const anyDue =
      queue === undefined ? this.stmt(sql.ANY_DUE_ALL_SQL).get(Date.now()) : this.stmt(sql.ANY_DUE_SQL).get(queue, Date.now());
    if (!anyDue) return 0;
    const back = new Map<string, number>();
    const run = () => {
      const now = Date.now();
      const queues =
        queue !== undefined ? [queue] : (this.stmt(sql.DUE_QUEUES_SQL).all(now) as { queue: string }[]).map((r) => r.queue);
      for (const q of queues) back.set(q, this.returnDueIn(q, now));
    };
    // Inside an open batch (see `reserve`) the return commits or rolls back with it.
    if (this.db.inTransaction) run();
    else this.writeTx(run);
    let n = 0;
    for (const [q, k] of back) {
      n += k;
      if (k) notifyActivity(this.path, q);
    }
    return n;
  }

  /** Held counts per queue with held messages (one queue when named), after returning due ones. */
  heldStats(queue?: string): HeldStats[] {
    if (!this.heldTablesExist()) return [];
    this.promoteDue(queue);
    const rows = (queue === undefined ? this.stmt(sql.HELD_STATS_SQL).all() : this.stmt(sql.HELD_STATS_QUEUE_SQL).all(queue)) as {
      queue: string;
      leased: bigint;
      scheduled: bigint;
    }[];
    return rows.map((r) => ({ queue: r.queue, leased: Number(r.leased), scheduled: Number(r.scheduled) }));
  }

  /** Held messages of `queue` in id order, at most `limit` after `after` (inspection). */
  peekHeld(queue: string, options: { after?: bigint; limit: number }): HeldMessage[] {
    if (!this.heldTablesExist() || options.limit <= 0) return [];
    this.promoteDue(queue);
    const rows = this.stmt(sql.PEEK_HELD_SQL).all(queue, options.after ?? -1n, options.limit) as sql.HeldRow[];
    return rows.map((r) => ({
      body: r.body,
      ts: r.ts,
      leased: r.token !== null,
      dueMs: Number(r.due),
      attempt: Number(r.attempt),
    }));
  }

  // --- readers of the admin layer return due messages first ---

  override hasPending(queue: string, after?: bigint): boolean {
    this.promoteDue(queue);
    return super.hasPending(queue, after);
  }

  override queueStats(queue: string): QueueStats {
    this.promoteDue(queue);
    return super.queueStats(queue);
  }

  override listStats(filter: { prefix?: string } = {}): QueueStats[] {
    this.promoteDue();
    return super.listStats(filter);
  }

  override vacuum(compact = false): VacuumResult {
    const result = super.vacuum(compact);
    if (result.ran) this.#forgetStaleAttempts();
    return result;
  }

  override async vacuumAsync(compact = false): Promise<VacuumResult> {
    const result = await super.vacuumAsync(compact);
    if (result.ran) this.#forgetStaleAttempts();
    return result;
  }

  override close(): void {
    this.#held = undefined;
    super.close();
  }

  // --- for the store ---

  /** Whether the side tables exist (once seen they stay); `recent`: an answer up to {@link HELD_RECHECK_MS} old will do. */
  protected heldTablesExist(recent = false): boolean {
    const held = this.#held;
    if (held?.exists) return true;
    const at = performance.now();
    if (held && recent && at - held.at < HELD_RECHECK_MS) return false;
    const schema = (this.stmt(sql.SCHEMA_VERSION_SQL).get() as { schema_version: bigint }).schema_version;
    const exists = held?.schema === schema ? false : this.stmt(sql.HELD_EXISTS_SQL).get() !== null;
    this.#held = { schema, exists, at };
    return exists;
  }

  /** Inside a write transaction: return `queue`'s held messages due at `now` to pending; returns how many. */
  protected returnDueIn(queue: string, now = Date.now()): number {
    if (!this.heldTablesExist(true) || !this.stmt(sql.ANY_DUE_SQL).get(queue, now)) return 0;
    this.stmt(sql.REMEMBER_DUE_SQL).run(queue, now);
    const n = Number(this.stmt(sql.RETURN_DUE_SQL).run(queue, now).changes);
    this.stmt(sql.FORGET_DUE_SQL).run(queue, now);
    return n;
  }

  /** Inside a write transaction: drop the held messages of one queue (or all), with the messages. */
  protected deleteHeldIn(queue?: string): void {
    if (!this.heldTablesExist()) return;
    if (queue === undefined) this.stmt(sql.DELETE_HELD_ALL_SQL).run();
    else this.stmt(sql.DELETE_HELD_QUEUE_SQL).run(queue);
  }

  /** Inside a write transaction: the held messages of `source` belong to `target` now. */
  protected renameHeldIn(source: string, target: string): void {
    if (this.heldTablesExist()) this.stmt(sql.RENAME_HELD_SQL).run(target, source);
  }

  // --- internal ---

  /** A write transaction that may create the side tables: if it fails, they are looked up again. */
  #creating<T>(fn: () => T): T {
    try {
      return this.writeTx(fn);
    } catch (error) {
      this.#held = undefined;
      throw error;
    }
  }

  #createTables(): void {
    if (this.heldTablesExist()) return;
    for (const statement of sql.CREATE_HELD_SQL) this.db.run(statement);
    this.#held = { schema: -1n, exists: true, at: 0 };
  }

  /**
   * In one write transaction: return the queue's due messages (a lease past
   * its deadline is over), then call `act` on each message of `ids` still
   * under a lease (that lease, with `token`). Returns the ids acted on, in order.
   */
  #onLeased(
    queue: string,
    ids: readonly bigint[],
    token: string | undefined,
    act: (row: sql.HeldRow, now: number) => unknown,
  ): bigint[] {
    if (ids.length === 0 || !this.heldTablesExist()) return [];
    const wanted = [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return this.writeTx(() => {
      const now = Date.now();
      this.returnDueIn(queue, now);
      const out: bigint[] = [];
      for (const id of wanted) {
        const stmt = this.stmt(token === undefined ? sql.LEASED_ROW_SQL : sql.LEASED_ROW_TOKEN_SQL);
        const row = (token === undefined ? stmt.get(queue, id) : stmt.get(queue, id, token)) as sql.HeldRow | null;
        if (!row) continue;
        act(row, now);
        out.push(id);
      }
      return out;
    });
  }

  /** One held message back to `messages` as pending in `queue`, under its id and row id. */
  #returnOne(row: sql.HeldRow, queue: string, rememberAttempt: boolean): void {
    this.stmt(sql.RETURN_ONE_SQL).run(row.id, queue, row.body, row.ts);
    if (rememberAttempt && row.attempt > 0n) this.stmt(sql.REMEMBER_ONE_SQL).run(row.ts, row.attempt);
    this.stmt(sql.FORGET_ONE_SQL).run(row.ts);
  }

  #forgetStaleAttempts(): void {
    if (this.heldTablesExist()) this.writeTx(() => this.stmt(sql.FORGET_STALE_ATTEMPTS_SQL).run());
  }
}

function positiveMs(ms: number, name: string): number {
  if (!(Number.isFinite(ms) && ms > 0)) throw new ArgumentError(`${name} must be a number > 0`);
  return Math.ceil(ms);
}
