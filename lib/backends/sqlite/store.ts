/**
 * The SQLite store: every queue operation (docs/on-disk-format.md#transactions) on one bun:sqlite
 * connection, synchronous, with prepared statements cached per connection and
 * ids allocated inside the write transaction (docs/compatibility.md#q7-ids-inside-the-write-transaction).
 * Statistics, aliases and vacuum come from `_admin.ts`, the connection and its
 * transactions from `_connection.ts`.
 * @module
 */
import { handOver, idleConsumersFor, notifyActivity } from "./local.ts";
import { nextHybridTimestamp, wallClockNs } from "../../time/timestamp.ts";
import { ArgumentError } from "../../core/errors.ts";
import type { BroadcastTargets, IdleConsumer, Message, RenameResult, Selection } from "../../core/types.ts";
import { broadcastQueues } from "../_broadcast.ts";
import { SqliteLeases } from "./_leases.ts";
import { inTsOrder, selectionWhere, toMessage, type Row } from "./_sql.ts";
import { withBusyRetry } from "./schema.ts";

/** Rows per multi-row INSERT of a batch write (768 bound values, far below SQLite's limit). */
const INSERT_ROWS_MAX = 256;
const insertRowsSqlCache = new Map<number, string>();
/** Claim the oldest pending message of a queue. */
const CLAIM_ONE_SQL =
  "UPDATE messages SET claimed = 1 WHERE id IN (SELECT id FROM messages WHERE queue = ? AND claimed = 0 ORDER BY id LIMIT 1) RETURNING body, ts";
/** Claim and move statements by the WHERE clause of their selection. */
const claimSql = new Map<string, string>();
const moveSql = new Map<string, string>();

/** `INSERT INTO messages (queue, body, ts) VALUES (?, ?, ?), …` with `n` rows. */
function insertRowsSql(n: number): string {
  let sql = insertRowsSqlCache.get(n);
  if (!sql)
    insertRowsSqlCache.set(
      n,
      (sql = `INSERT INTO messages (queue, body, ts) VALUES ${new Array<string>(n).fill("(?, ?, ?)").join(", ")}`),
    );
  return sql;
}

/** Synchronous SimpleBroker operations on one SQLite file. */
export class SqliteStore extends SqliteLeases {
  /** Append `bodies` to `queue` in one transaction; returns the new ids. */
  write(queue: string, bodies: string[]): bigint[] {
    this.guard("write");
    if (bodies.length === 0) return [];
    let takers: IdleConsumer[] = [];
    let claimedForTaker = false;
    const counts = this.vacuumCounts;
    const ids = this.writeTx(() => {
      let last = this.lastTs();
      const out: bigint[] = new Array(bodies.length);
      if (bodies.length === 1) {
        last = nextHybridTimestamp(last, wallClockNs());
        takers = this.#handOverTo(queue, last);
        claimedForTaker = takers.length === 1 && takers[0]!.claims;
        const sql = claimedForTaker
          ? "INSERT INTO messages (queue, body, ts, claimed) VALUES (?, ?, ?, 1)"
          : "INSERT INTO messages (queue, body, ts) VALUES (?, ?, ?)";
        this.stmt(sql).run(queue, bodies[0]!, last);
        out[0] = last;
      } else {
        // Multi-row INSERTs of 256, 128, …, 1 rows: far fewer statement steps than one per row, and
        // at most nine cached statements. One clock reading per statement; ids follow the max-rule.
        for (let i = 0; i < bodies.length; ) {
          let n = INSERT_ROWS_MAX;
          while (n > bodies.length - i) n >>= 1;
          const params: (string | bigint)[] = new Array(n * 3);
          const now = wallClockNs();
          for (let k = 0; k < n; k++, i++) {
            last = nextHybridTimestamp(last, now);
            params[3 * k] = queue;
            params[3 * k + 1] = bodies[i]!;
            params[3 * k + 2] = last;
            out[i] = last;
          }
          this.stmt(insertRowsSql(n)).run(...params);
        }
      }
      this.advance(last);
      return out;
    }, true);
    if (counts) {
      // Appends only: the counts stay exact (a message handed to a consuming watcher is claimed).
      counts.total += bodies.length;
      if (claimedForTaker) counts.claimedAtMost += 1;
      this.vacuumCounts = counts;
    }
    for (const taker of takers) handOver(this.path, queue, taker, { ts: ids[0]!, body: bodies[0]! });
    notifyActivity(this.path, queue);
    return ids;
  }

  /** Claim up to `limit` pending messages (exactly-once: committed before returning). */
  claim(queue: string, sel: Selection = {}): Message[] {
    this.guard("claim");
    return this.writeTx(() => {
      this.returnDueIn(queue);
      return this.#claimRows(queue, sel);
    });
  }

  peek(queue: string, sel: Selection = {}): Message[] {
    this.promoteDue(queue);
    const { where, params } = selectionWhere(queue, sel, !sel.includeClaimed);
    // Pages of a walk start after the last id seen: in id order the (queue, ts) index range would be
    // sorted again for every page; in ts order it is read once. Both orders agree, as ids are
    // allocated inside the write transaction.
    const order = sel.after !== undefined && sel.exactId === undefined ? "ts" : "id";
    const rows = this.stmt(`SELECT id, body, ts FROM messages WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?`).all(
      ...params,
      sel.limit ?? 1,
      sel.offset ?? 0,
    ) as Row[];
    return rows.map(toMessage);
  }

  move(source: string, target: string, sel: Selection = {}): Message[] {
    this.guard("move");
    const moved = this.writeTx(() => {
      this.returnDueIn(source);
      return this.#moveRows(source, target, sel);
    });
    if (moved.length) notifyActivity(this.path, target);
    return moved;
  }

  /** Claim or move a batch inside an open transaction; the caller commits or rolls back. */
  reserve(queue: string, sel: Selection, moveTo?: string): { messages: Message[]; commit(): void; rollback(): void } {
    this.guard(moveTo === undefined ? "claim" : "move");
    const db = this.db;
    this.vacuumCounts = undefined;
    withBusyRetry(() => this.stmt("BEGIN IMMEDIATE").run(), this.config.busyTimeout);
    let messages: Message[];
    try {
      this.returnDueIn(queue);
      messages = moveTo === undefined ? this.#claimRows(queue, sel) : this.#moveRows(queue, moveTo, sel);
    } catch (error) {
      db.run("ROLLBACK");
      throw error;
    }
    this.reserved = true;
    let open = true;
    const end = (sql: string) => {
      if (!open) return;
      open = false;
      this.reserved = false;
      this.stmt(sql).run();
      if (sql === "COMMIT" && moveTo !== undefined && messages.length) notifyActivity(this.path, moveTo);
    };
    return { messages, commit: () => end("COMMIT"), rollback: () => end("ROLLBACK") };
  }

  /** Physically delete the rows of one queue (or all); returns the count. */
  deleteQueue(queue?: string): number {
    this.guard("delete");
    return this.writeTx(() => {
      this.deleteHeldIn(queue);
      return queue === undefined
        ? Number(this.stmt("DELETE FROM messages").run().changes)
        : Number(this.stmt("DELETE FROM messages WHERE queue = ?").run(queue).changes);
    });
  }

  /** One message per chosen queue with rows (see `BroadcastTargets`), ids ascending, in one write transaction. */
  broadcast(body: string, targets?: BroadcastTargets): number {
    this.guard("broadcast");
    const queues = this.writeTx(() => {
      const present = (this.stmt("SELECT DISTINCT queue FROM messages ORDER BY queue").all() as { queue: string }[]).map(
        (r) => r.queue,
      );
      const names = broadcastQueues(present, targets);
      if (names === null) return null;
      let last = this.lastTs();
      const insert = this.stmt("INSERT INTO messages (queue, body, ts) VALUES (?, ?, ?)");
      for (const q of names) {
        last = nextHybridTimestamp(last, wallClockNs());
        insert.run(q, body, last);
      }
      if (names.length) this.advance(last);
      return names;
    }, true);
    if (queues === null) return -1;
    for (const q of queues) notifyActivity(this.path, q);
    return queues.length;
  }

  /** Retag every row of `source` to `target` (and its aliases with `retargetAliases`) in one write transaction. */
  rename(source: string, target: string, retargetAliases: boolean): RenameResult {
    this.guard("rename");
    const result = this.writeTx(() => {
      if (this.stmt("SELECT 1 FROM messages WHERE queue = ? LIMIT 1").get(target)) {
        throw new ArgumentError("Target queue already exists");
      }
      this.renameHeldIn(source, target);
      const messages = Number(this.stmt("UPDATE messages SET queue = ? WHERE queue = ?").run(target, source).changes);
      if (messages === 0 || !retargetAliases) return { messages, aliases: 0 };
      const aliases = Number(this.stmt("UPDATE queue_aliases SET target = ? WHERE target = ?").run(target, source).changes);
      if (aliases > 0) this.bumpAliasVersion();
      return { messages, aliases };
    });
    if (result.messages) notifyActivity(this.path, target);
    return result;
  }

  // --- internal ---

  /**
   * Inside a write transaction: the watchers of this process that take the new message `ts`
   * directly (see IdleConsumer), those for which nothing older is pending. The first claiming
   * one takes it alone; otherwise every such peeking watcher gets a copy.
   */
  #handOverTo(queue: string, ts: bigint): IdleConsumer[] {
    const idle = idleConsumersFor(this.path, queue, ts);
    if (idle.length === 0) return idle;
    const pending = this.stmt("SELECT 1 FROM messages WHERE queue = ? AND claimed = 0 AND ts > ? LIMIT 1");
    const viewers: IdleConsumer[] = [];
    for (const c of idle) {
      if (pending.get(queue, c.after ?? -1n)) continue;
      if (c.claims) return [c];
      viewers.push(c);
    }
    return viewers;
  }

  // Claims and moves run once per message of an exactly-once walk, or per page of `move --all`: the
  // SQL text is cached per WHERE shape (no string built and hashed per call), and the returned rows
  // (body, ts) are the messages, with no copy per row.

  #claimRows(queue: string, sel: Selection): Message[] {
    if ((sel.limit ?? 1) === 1 && sel.after === undefined && sel.before === undefined && sel.exactId === undefined) {
      // The step of an exactly-once walk: the returned row is the message.
      const row = this.stmt(CLAIM_ONE_SQL).get(queue) as Message | null;
      return row ? [row] : [];
    }
    const { where, params } = selectionWhere(queue, sel, true);
    let sql = claimSql.get(where);
    if (!sql) {
      sql = `UPDATE messages SET claimed = 1 WHERE id IN (SELECT id FROM messages WHERE ${where} ORDER BY id LIMIT ?) RETURNING body, ts`;
      claimSql.set(where, sql);
    }
    params.push(sel.limit ?? 1);
    return inTsOrder(this.stmt(sql).all(...params) as Message[]);
  }

  #moveRows(source: string, target: string, sel: Selection): Message[] {
    const { where, params } = selectionWhere(source, sel, sel.requireUnclaimed ?? true);
    let sql = moveSql.get(where);
    if (!sql) {
      sql = `UPDATE messages SET queue = ?, claimed = 0 WHERE id IN (SELECT id FROM messages WHERE ${where} ORDER BY id LIMIT ?) RETURNING body, ts`;
      moveSql.set(where, sql);
    }
    params.push(sel.limit ?? 1);
    return inTsOrder(this.stmt(sql).all(target, ...params) as Message[]);
  }
}
