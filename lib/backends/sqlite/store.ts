/**
 * The SQLite store: every queue operation of docs/on-disk-format.md#transactions on one bun:sqlite
 * connection, synchronous, with prepared statements cached per connection and
 * ids allocated inside the write transaction (docs/compatibility.md#q7-ids-inside-the-write-transaction).
 * @module
 */
import type { Database, Statement } from "bun:sqlite";
import { fs } from "../../util/fs-lazy.ts";
import { handOver, idleConsumersFor, notifyActivity } from "./local.ts";
import type { IdleConsumer } from "../../core/types.ts";
import { ArgumentError, BackendError } from "../../core/errors.ts";
import { withSuffix } from "../../target/paths.ts";
import { nextHybridTimestamp, wallClockNs } from "../../time/timestamp.ts";
import type { BroadcastTargets, BrokerConfig, BrokerStatus, Message, QueueStats, Selection, VacuumResult } from "../../core/types.ts";
import { broadcastQueues } from "../_broadcast.ts";
import { acquireVacuumLock } from "./_vacuum-lock.ts";
import { prefixEnd, selectionWhere, sortRows, toMessage, toStats, wrapDbError, type Row, type StatRow } from "./_sql.ts";
import { forgetVerified, isBusyError, openDatabase, validateDatabaseFile, withBusyRetry } from "./schema.ts";
import { removeStoreFiles } from "./_files.ts";

/** Rows per multi-row INSERT of a batch write (768 bound values, far below SQLite's limit). */
const INSERT_ROWS_MAX = 256;
const insertRowsSqlCache = new Map<number, string>();

/** `INSERT INTO messages (queue, body, ts) VALUES (?, ?, ?), …` with `n` rows. */
function insertRowsSql(n: number): string {
  let sql = insertRowsSqlCache.get(n);
  if (!sql) insertRowsSqlCache.set(n, (sql = `INSERT INTO messages (queue, body, ts) VALUES ${new Array<string>(n).fill("(?, ?, ?)").join(", ")}`));
  return sql;
}

/** Synchronous SimpleBroker operations on one SQLite file. */
export class SqliteStore {
  readonly path: string;
  readonly config: BrokerConfig;
  #db: Database | undefined;
  #statements = new Map<string, Statement>();
  #reserved = false;
  /**
   * The last {@link claimedUpperBound}, kept while it stays exact without a recount: no other
   * connection committed since (`PRAGMA data_version`) and this one only appended messages.
   */
  #vacuumCounts: { dataVersion: bigint; claimedAtMost: number; total: number } | undefined;

  /** `db`: a connection to `path` already opened by `openDatabase`/`openCurrentDatabase`; the store owns it. */
  constructor(path: string, config: BrokerConfig, db?: Database) {
    this.path = path;
    this.config = config;
    this.#db = db;
  }

  /** The open connection (opened and set up on first use). */
  get db(): Database {
    return (this.#db ??= openDatabase(this.path, this.config));
  }

  /** Whether a connection is open. */
  get isOpen(): boolean {
    return this.#db !== undefined;
  }

  close(): void {
    const db = this.#db;
    this.#db = undefined;
    this.#vacuumCounts = undefined;
    for (const stmt of this.#statements.values()) stmt.finalize();
    this.#statements.clear();
    db?.close();
  }

  /** Append `bodies` to `queue` in one transaction; returns the new ids. */
  write(queue: string, bodies: string[]): bigint[] {
    this.#guard("write");
    if (bodies.length === 0) return [];
    let takers: IdleConsumer[] = [];
    let claimedForTaker = false;
    const counts = this.#vacuumCounts;
    const ids = this.#writeTx(() => {
      let last = this.#lastTs();
      const out: bigint[] = new Array(bodies.length);
      if (bodies.length === 1) {
        last = nextHybridTimestamp(last, wallClockNs());
        takers = this.#handOverTo(queue, last);
        claimedForTaker = takers.length === 1 && takers[0]!.claims;
        const sql = claimedForTaker ? "INSERT INTO messages (queue, body, ts, claimed) VALUES (?, ?, ?, 1)" : "INSERT INTO messages (queue, body, ts) VALUES (?, ?, ?)";
        this.#stmt(sql).run(queue, bodies[0]!, last);
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
          this.#stmt(insertRowsSql(n)).run(...params);
        }
      }
      this.#advance(last);
      return out;
    }, true);
    if (counts) {
      // Appends only: the counts stay exact (a message handed to a consuming watcher is claimed).
      counts.total += bodies.length;
      if (claimedForTaker) counts.claimedAtMost += 1;
      this.#vacuumCounts = counts;
    }
    for (const taker of takers) handOver(this.path, queue, taker, { ts: ids[0]!, body: bodies[0]! });
    notifyActivity(this.path, queue);
    return ids;
  }

  /** Claim up to `limit` pending messages (exactly-once: committed before returning). */
  claim(queue: string, sel: Selection = {}): Message[] {
    this.#guard("claim");
    return this.#writeTx(() => this.#claimRows(queue, sel));
  }

  peek(queue: string, sel: Selection = {}): Message[] {
    const { where, params } = selectionWhere(queue, sel, true);
    // Pages of a walk start after the last id seen: in id order the (queue, ts) index range would be
    // sorted again for every page; in ts order it is read once. Both orders agree, as ids are
    // allocated inside the write transaction.
    const order = sel.after !== undefined && sel.exactId === undefined ? "ts" : "id";
    const rows = this.#stmt(`SELECT id, body, ts FROM messages WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?`).all(
      ...params,
      sel.limit ?? 1,
      sel.offset ?? 0,
    ) as Row[];
    return rows.map(toMessage);
  }

  move(source: string, target: string, sel: Selection = {}): Message[] {
    this.#guard("move");
    const moved = this.#writeTx(() => this.#moveRows(source, target, sel));
    if (moved.length) notifyActivity(this.path, target);
    return moved;
  }

  /** Claim or move a batch inside an open transaction; the caller commits or rolls back. */
  reserve(queue: string, sel: Selection, moveTo?: string): { messages: Message[]; commit(): void; rollback(): void } {
    this.#guard(moveTo === undefined ? "claim" : "move");
    const db = this.db;
    this.#vacuumCounts = undefined;
    withBusyRetry(() => this.#stmt("BEGIN IMMEDIATE").run(), this.config.busyTimeout);
    let messages: Message[];
    try {
      messages = moveTo === undefined ? this.#claimRows(queue, sel) : this.#moveRows(queue, moveTo, sel);
    } catch (error) {
      db.run("ROLLBACK");
      throw error;
    }
    this.#reserved = true;
    let open = true;
    const end = (sql: string) => {
      if (!open) return;
      open = false;
      this.#reserved = false;
      this.#stmt(sql).run();
      if (sql === "COMMIT" && moveTo !== undefined && messages.length) notifyActivity(this.path, moveTo);
    };
    return { messages, commit: () => end("COMMIT"), rollback: () => end("ROLLBACK") };
  }

  /** Physically delete the rows of one queue (or all); returns the count. */
  deleteQueue(queue?: string): number {
    this.#guard("delete");
    return this.#writeTx(() =>
      queue === undefined
        ? Number(this.#stmt("DELETE FROM messages").run().changes)
        : Number(this.#stmt("DELETE FROM messages WHERE queue = ?").run(queue).changes),
    );
  }

  /** One message per chosen queue with rows (see `BroadcastTargets`), ids ascending, in one write transaction. */
  broadcast(body: string, targets?: BroadcastTargets): number {
    this.#guard("broadcast");
    const queues = this.#writeTx(() => {
      const present = (this.#stmt("SELECT DISTINCT queue FROM messages ORDER BY queue").all() as { queue: string }[]).map((r) => r.queue);
      const names = broadcastQueues(present, targets);
      if (names === null) return null;
      let last = this.#lastTs();
      const insert = this.#stmt("INSERT INTO messages (queue, body, ts) VALUES (?, ?, ?)");
      for (const q of names) {
        last = nextHybridTimestamp(last, wallClockNs());
        insert.run(q, body, last);
      }
      if (names.length) this.#advance(last);
      return names;
    }, true);
    if (queues === null) return -1;
    for (const q of queues) notifyActivity(this.path, q);
    return queues.length;
  }

  /** Stats of every queue with rows, sorted by name; a `prefix` narrows the scan to a name range. */
  listStats(filter: { prefix?: string } = {}): QueueStats[] {
    const prefix = filter.prefix ?? "";
    const head = "SELECT queue, SUM(CASE WHEN claimed = 0 THEN 1 ELSE 0 END) AS pending, COUNT(*) AS total FROM messages";
    const rows = (
      prefix
        ? this.#stmt(`${head} WHERE queue >= ? AND queue < ? GROUP BY queue ORDER BY queue`).all(prefix, prefixEnd(prefix))
        : this.#stmt(`${head} GROUP BY queue ORDER BY queue`).all()
    ) as StatRow[];
    return rows.map(toStats);
  }

  queueStats(queue: string): QueueStats {
    const row = this.#stmt(
      "SELECT ? AS queue, COALESCE(SUM(CASE WHEN claimed = 0 THEN 1 ELSE 0 END), 0) AS pending, COUNT(*) AS total FROM messages WHERE queue = ?",
    ).get(queue, queue) as StatRow;
    return toStats(row);
  }

  hasPending(queue: string, after?: bigint): boolean {
    const row = (
      after === undefined
        ? this.#stmt("SELECT EXISTS(SELECT 1 FROM messages WHERE queue = ? AND claimed = 0 LIMIT 1) AS e").get(queue)
        : this.#stmt("SELECT EXISTS(SELECT 1 FROM messages WHERE queue = ? AND claimed = 0 AND ts > ? LIMIT 1) AS e").get(
            queue,
            after,
          )
    ) as { e: bigint };
    return row.e === 1n;
  }

  /**
   * Total rows and an upper bound of the claimed ones (`total - pending`,
   * equal to the claimed count while `claimed` holds only 0 and 1), from two
   * index-only counts: several times cheaper than {@link overallStats}, which
   * reads every row. Lets the auto-vacuum check skip the full scan.
   */
  claimedUpperBound(): { claimedAtMost: number; total: number } {
    // Two statements (a scalar subquery would lose SQLite's fast COUNT(*)), read in one snapshot.
    const count = (sql: string) => (this.#stmt(sql).get() as { n: bigint }).n;
    const read = () => {
      // Both counts walk an index of every row; a write loop over a large backlog would pay that
      // every autoVacuumInterval writes. Unchanged data_version and appends only: counts still exact.
      const dataVersion = this.dataVersion();
      const kept = this.#vacuumCounts;
      if (kept && kept.dataVersion === dataVersion) return { claimedAtMost: kept.claimedAtMost, total: kept.total };
      const total = count("SELECT COUNT(*) AS n FROM messages");
      const pending = count("SELECT COUNT(*) AS n FROM messages WHERE claimed = 0");
      this.#vacuumCounts = { dataVersion, claimedAtMost: Number(total - pending), total: Number(total) };
      return { claimedAtMost: this.#vacuumCounts.claimedAtMost, total: this.#vacuumCounts.total };
    };
    if (this.db.inTransaction) return read();
    this.#stmt("BEGIN").run();
    try {
      return read();
    } finally {
      this.#stmt("COMMIT").run();
    }
  }

  /** Claimed and total rows over the whole database. */
  overallStats(): { claimed: number; total: number } {
    const row = this.#stmt(
      "SELECT COALESCE(SUM(CASE WHEN claimed = 1 THEN 1 ELSE 0 END), 0) AS claimed, COUNT(*) AS total FROM messages",
    ).get() as { claimed: bigint; total: bigint };
    return { claimed: Number(row.claimed), total: Number(row.total) };
  }

  status(): BrokerStatus {
    const total = (this.#stmt("SELECT COUNT(*) AS n FROM messages").get() as { n: bigint }).n;
    return { totalMessages: Number(total), lastTimestamp: this.#lastTs(), dbSize: fs().statSync(this.path).size };
  }

  generateTimestamp(): bigint {
    this.#guard("generate_timestamp");
    return this.#writeTx(() => {
      const ts = nextHybridTimestamp(this.#lastTs(), wallClockNs());
      this.#advance(ts);
      return ts;
    });
  }

  lastTimestamp(): bigint {
    return this.#lastTs();
  }

  listAliases(): Array<[string, string]> {
    const rows = this.#stmt("SELECT alias, target FROM queue_aliases ORDER BY alias").all() as {
      alias: string;
      target: string;
    }[];
    return rows.map((r) => [r.alias, r.target]);
  }

  resolveAlias(alias: string): string | undefined {
    const row = this.#stmt("SELECT target FROM queue_aliases WHERE alias = ?").get(alias) as { target: string } | null;
    return row?.target;
  }

  addAlias(alias: string, target: string): void {
    this.#guard("add_alias");
    this.#writeTx(() => {
      const map = new Map(this.listAliases());
      if (map.has(alias)) throw new ArgumentError(`Alias '${alias}' already exists`);
      if (map.has(target)) throw new ArgumentError("Cannot target another alias");
      // Walk the chain from the target: reaching the new alias would close a cycle.
      for (let t: string | undefined = target, hops = 0; t !== undefined && hops <= map.size; hops++) {
        if (t === alias) throw new ArgumentError("Alias cycle detected");
        t = map.get(t);
      }
      this.#stmt("INSERT INTO queue_aliases (alias, target) VALUES (?, ?)").run(alias, target);
      this.#bumpAliasVersion();
    });
  }

  removeAlias(alias: string): boolean {
    this.#guard("remove_alias");
    return this.#writeTx(() => {
      const n = this.#stmt("DELETE FROM queue_aliases WHERE alias = ?").run(alias).changes;
      this.#bumpAliasVersion();
      return Number(n) > 0;
    });
  }

  /** Delete claimed rows in batches under the vacuum lock file (docs/on-disk-format.md#vacuum). */
  vacuum(compact = false): VacuumResult {
    const steps = this.#vacuumSteps(compact);
    let step = steps.next();
    while (!step.done) step = steps.next();
    return step.value;
  }

  /** {@link vacuum}, pausing 1 ms between batches (as 3.6.1 does): a stop signal is handled between two batches. */
  async vacuumAsync(compact = false): Promise<VacuumResult> {
    const steps = this.#vacuumSteps(compact);
    let step = steps.next();
    while (!step.done) {
      await Bun.sleep(1);
      step = steps.next();
    }
    return step.value;
  }

  /** `PRAGMA data_version`: changes whenever another connection commits. */
  dataVersion(): bigint {
    return (this.#stmt("PRAGMA data_version").get() as { data_version: bigint }).data_version;
  }

  /**
   * `--cleanup`: delete the database with its `-wal`, `-shm` and `-journal`
   * files and our lock files; refuses (read-only check first) a file that is
   * not a SimpleBroker database. False when there was no database.
   */
  cleanup(): boolean {
    this.close();
    forgetVerified(this.path);
    if (!fs().existsSync(this.path)) return false;
    validateDatabaseFile(this.path, true);
    removeStoreFiles(this.path);
    return true;
  }

  // --- internal ---

  /** The vacuum, one batch per step; the lock is released when it ends, fails or is stopped by a signal. */
  *#vacuumSteps(compact: boolean): Generator<void, VacuumResult> {
    this.#guard("vacuum");
    const lock = acquireVacuumLock(withSuffix(this.path, ".vacuum.lock"), this.config.vacuumLockTimeout);
    if (!lock) return { vacuumed: 0, ran: false };
    try {
      let vacuumed = 0;
      const batch = Math.max(1, this.config.vacuumBatchSize);
      for (;;) {
        const n = this.#writeTx(() =>
          Number(
            this.#stmt("DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE claimed = 1 LIMIT ?)").run(batch)
              .changes,
          ),
        );
        vacuumed += n;
        if (n < batch) break;
        yield;
        if (lock.interrupted) return { vacuumed, ran: true };
      }
      if (compact) {
        this.db.run("PRAGMA auto_vacuum = 2");
        withBusyRetry(() => this.db.run("VACUUM"));
      } else if (vacuumed > 0) {
        try {
          const mode = this.db.query("PRAGMA auto_vacuum").get() as { auto_vacuum: bigint };
          if (mode.auto_vacuum === 2n) this.db.query("PRAGMA incremental_vacuum(100)").all();
        } catch {
          // best effort, as in 3.6.1
        }
      }
      return { vacuumed, ran: true };
    } finally {
      lock.release();
    }
  }

  #stmt(sql: string): Statement {
    let stmt = this.#statements.get(sql);
    if (!stmt) this.#statements.set(sql, (stmt = this.db.prepare(sql)));
    return stmt;
  }

  #guard(op: string): void {
    if (this.#reserved) {
      throw new BackendError(
        `Cannot perform ${op} while an at-least-once batch is being yielded from this connection. Use exactly-once delivery or a separate Queue instance.`,
      );
    }
  }

  #lastTs(): bigint {
    return (this.#stmt("SELECT value FROM meta WHERE key = 'last_ts'").get() as { value: bigint }).value;
  }

  #advance(ts: bigint): void {
    this.#stmt("UPDATE meta SET value = ? WHERE key = 'last_ts' AND value < ?").run(ts, ts);
  }

  #bumpAliasVersion(): void {
    this.#stmt("UPDATE meta SET value = ? WHERE key = 'alias_version'").run(wallClockNs());
  }

  /**
   * Inside a write transaction: the watchers of this process that take the new message `ts`
   * directly (see IdleConsumer), those for which nothing older is pending. The first claiming
   * one takes it alone; otherwise every such peeking watcher gets a copy.
   */
  #handOverTo(queue: string, ts: bigint): IdleConsumer[] {
    const idle = idleConsumersFor(this.path, queue, ts);
    if (idle.length === 0) return idle;
    const pending = this.#stmt("SELECT 1 FROM messages WHERE queue = ? AND claimed = 0 AND ts > ? LIMIT 1");
    const viewers: IdleConsumer[] = [];
    for (const c of idle) {
      if (pending.get(queue, c.after ?? -1n)) continue;
      if (c.claims) return [c];
      viewers.push(c);
    }
    return viewers;
  }

  /** BEGIN IMMEDIATE … COMMIT with retry on busy; `resync` repairs last_ts after a duplicate id. */
  #writeTx<T>(fn: () => T, resync = false): T {
    this.#vacuumCounts = undefined; // any change through this connection; write() restores them
    const begin = this.#stmt("BEGIN IMMEDIATE");
    const commit = this.#stmt("COMMIT");
    for (let attempt = 0; ; attempt++) {
      try {
        return withBusyRetry(() => {
          begin.run();
          try {
            const out = fn();
            commit.run();
            return out;
          } catch (error) {
            if (this.db.inTransaction) this.db.run("ROLLBACK");
            throw error;
          }
        }, this.config.busyTimeout);
      } catch (error) {
        if (!resync || attempt >= 2 || !String(error).includes("UNIQUE constraint failed: messages.ts")) {
          throw isBusyError(error) || !(error instanceof Error) || error instanceof BackendError || error instanceof ArgumentError
            ? wrapDbError(error, this.config.busyTimeout)
            : error;
        }
        this.#resync();
      }
    }
  }

  #resync(): void {
    withBusyRetry(() =>
      this.db.run(
        "UPDATE meta SET value = (SELECT MAX(ts) FROM messages) WHERE key = 'last_ts' AND value < (SELECT MAX(ts) FROM messages)",
      ),
    );
  }

  #claimRows(queue: string, sel: Selection): Message[] {
    const { where, params } = selectionWhere(queue, sel, true);
    const rows = this.#stmt(
      `UPDATE messages SET claimed = 1 WHERE id IN (SELECT id FROM messages WHERE ${where} ORDER BY id LIMIT ?) RETURNING id, body, ts`,
    ).all(...params, sel.limit ?? 1) as Row[];
    return sortRows(rows);
  }

  #moveRows(source: string, target: string, sel: Selection): Message[] {
    const { where, params } = selectionWhere(source, sel, sel.requireUnclaimed ?? true);
    const rows = this.#stmt(
      `UPDATE messages SET queue = ?, claimed = 0 WHERE id IN (SELECT id FROM messages WHERE ${where} ORDER BY id LIMIT ?) RETURNING id, body, ts`,
    ).all(target, ...params, sel.limit ?? 1) as Row[];
    return sortRows(rows);
  }
}

