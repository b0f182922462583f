/**
 * What a SimpleBroker SQLite store answers besides moving messages: queue
 * statistics, id allocation, aliases, vacuum and cleanup. The base of
 * {@link import("./store.ts").SqliteStore}.
 * @module
 */
import { fs } from "../../util/fs-lazy.ts";
import { ArgumentError } from "../../core/errors.ts";
import { withSuffix } from "../../target/paths.ts";
import { nextHybridTimestamp, wallClockNs } from "../../time/timestamp.ts";
import type { BrokerStatus, QueueStats, VacuumResult } from "../../core/types.ts";
import { SqliteConnection } from "./_connection.ts";
import { removeStoreFiles } from "./_files.ts";
import { prefixEnd, toStats, type StatRow } from "./_sql.ts";
import { acquireVacuumLock } from "./_vacuum-lock.ts";
import { forgetVerified, validateDatabaseFile, withBusyRetry } from "./schema.ts";

/** Statistics, ids, aliases, vacuum and cleanup on one connection. */
export class SqliteAdmin extends SqliteConnection {
  /** Stats of every queue with rows, sorted by name; a `prefix` narrows the scan to a name range. */
  listStats(filter: { prefix?: string } = {}): QueueStats[] {
    const prefix = filter.prefix ?? "";
    const head = "SELECT queue, SUM(CASE WHEN claimed = 0 THEN 1 ELSE 0 END) AS pending, COUNT(*) AS total FROM messages";
    const rows = (
      prefix
        ? this.stmt(`${head} WHERE queue >= ? AND queue < ? GROUP BY queue ORDER BY queue`).all(prefix, prefixEnd(prefix))
        : this.stmt(`${head} GROUP BY queue ORDER BY queue`).all()
    ) as StatRow[];
    return rows.map(toStats);
  }

  queueStats(queue: string): QueueStats {
    const row = this.stmt(
      "SELECT ? AS queue, COALESCE(SUM(CASE WHEN claimed = 0 THEN 1 ELSE 0 END), 0) AS pending, COUNT(*) AS total FROM messages WHERE queue = ?",
    ).get(queue, queue) as StatRow;
    return toStats(row);
  }

  hasPending(queue: string, after?: bigint): boolean {
    const row = (
      after === undefined
        ? this.stmt("SELECT EXISTS(SELECT 1 FROM messages WHERE queue = ? AND claimed = 0 LIMIT 1) AS e").get(queue)
        : this.stmt("SELECT EXISTS(SELECT 1 FROM messages WHERE queue = ? AND claimed = 0 AND ts > ? LIMIT 1) AS e").get(
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
    const count = (sql: string) => (this.stmt(sql).get() as { n: bigint }).n;
    const read = () => {
      // Both counts walk an index of every row; a write loop over a large backlog would pay that
      // every autoVacuumInterval writes. Unchanged data_version and appends only: counts still exact.
      const dataVersion = this.dataVersion();
      const kept = this.vacuumCounts;
      if (kept && kept.dataVersion === dataVersion) return { claimedAtMost: kept.claimedAtMost, total: kept.total };
      const total = count("SELECT COUNT(*) AS n FROM messages");
      const pending = count("SELECT COUNT(*) AS n FROM messages WHERE claimed = 0");
      this.vacuumCounts = { dataVersion, claimedAtMost: Number(total - pending), total: Number(total) };
      return { claimedAtMost: this.vacuumCounts.claimedAtMost, total: this.vacuumCounts.total };
    };
    if (this.db.inTransaction) return read();
    this.stmt("BEGIN").run();
    try {
      return read();
    } finally {
      this.stmt("COMMIT").run();
    }
  }

  /** Claimed and total rows over the whole database. */
  overallStats(): { claimed: number; total: number } {
    const row = this.stmt(
      "SELECT COALESCE(SUM(CASE WHEN claimed = 1 THEN 1 ELSE 0 END), 0) AS claimed, COUNT(*) AS total FROM messages",
    ).get() as { claimed: bigint; total: bigint };
    return { claimed: Number(row.claimed), total: Number(row.total) };
  }

  status(): BrokerStatus {
    const total = (this.stmt("SELECT COUNT(*) AS n FROM messages").get() as { n: bigint }).n;
    return { totalMessages: Number(total), lastTimestamp: this.lastTs(), dbSize: fs().statSync(this.path).size };
  }

  generateTimestamp(): bigint {
    this.guard("generate_timestamp");
    return this.writeTx(() => {
      const ts = nextHybridTimestamp(this.lastTs(), wallClockNs());
      this.advance(ts);
      return ts;
    });
  }

  lastTimestamp(): bigint {
    return this.lastTs();
  }

  listAliases(): Array<[string, string]> {
    const rows = this.stmt("SELECT alias, target FROM queue_aliases ORDER BY alias").all() as {
      alias: string;
      target: string;
    }[];
    return rows.map((r) => [r.alias, r.target]);
  }

  resolveAlias(alias: string): string | undefined {
    const row = this.stmt("SELECT target FROM queue_aliases WHERE alias = ?").get(alias) as { target: string } | null;
    return row?.target;
  }

  addAlias(alias: string, target: string): void {
    this.guard("add_alias");
    this.writeTx(() => {
      const map = new Map(this.listAliases());
      if (map.has(alias)) throw new ArgumentError(`Alias '${alias}' already exists`);
      if (map.has(target)) throw new ArgumentError("Cannot target another alias");
      // Walk the chain from the target: reaching the new alias would close a cycle.
      for (let t: string | undefined = target, hops = 0; t !== undefined && hops <= map.size; hops++) {
        if (t === alias) throw new ArgumentError("Alias cycle detected");
        t = map.get(t);
      }
      this.stmt("INSERT INTO queue_aliases (alias, target) VALUES (?, ?)").run(alias, target);
      this.bumpAliasVersion();
    });
  }

  removeAlias(alias: string): boolean {
    this.guard("remove_alias");
    return this.writeTx(() => {
      const n = this.stmt("DELETE FROM queue_aliases WHERE alias = ?").run(alias).changes;
      this.bumpAliasVersion();
      return Number(n) > 0;
    });
  }

  /** Delete claimed rows in batches under the vacuum lock file (docs/on-disk-format.md#vacuum). */
  vacuum(compact = false): VacuumResult {
    const steps = this.#vacuumSteps(compact, false);
    let step = steps.next();
    while (!step.done) step = steps.next();
    return step.value;
  }

  /** {@link vacuum}, pausing 1 ms between batches (as 3.6.1 does): a stop signal is handled between two batches. */
  async vacuumAsync(compact = false): Promise<VacuumResult> {
    const steps = this.#vacuumSteps(compact, true);
    let step = steps.next();
    while (!step.done) {
      await Bun.sleep(1);
      step = steps.next();
    }
    return step.value;
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

  protected bumpAliasVersion(): void {
    this.stmt("UPDATE meta SET value = ? WHERE key = 'alias_version'").run(wallClockNs());
  }

  /** The vacuum, one batch per step; the lock is released when it ends, fails or is stopped by a signal. */
  *#vacuumSteps(compact: boolean, stoppable: boolean): Generator<void, VacuumResult> {
    this.guard("vacuum");
    const lock = acquireVacuumLock(withSuffix(this.path, ".vacuum.lock"), this.config.vacuumLockTimeout, stoppable);
    if (!lock) return { vacuumed: 0, ran: false };
    try {
      let vacuumed = 0;
      const batch = Math.max(1, this.config.vacuumBatchSize);
      for (;;) {
        const n = this.writeTx(() =>
          Number(
            this.stmt("DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE claimed = 1 LIMIT ?)").run(batch).changes,
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
}
