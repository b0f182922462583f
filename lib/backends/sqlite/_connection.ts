/**
 * One bun:sqlite connection of a SimpleBroker store: opened on first use,
 * prepared statements cached on it, and the write transaction every change
 * runs in (BEGIN IMMEDIATE, retried while busy, `last_ts` repaired after a
 * duplicate id). The base of {@link import("./store.ts").SqliteStore}.
 * @module
 */
import type { Database, Statement } from "bun:sqlite";
import { ArgumentError, BackendError } from "../../core/errors.ts";
import type { BrokerConfig } from "../../core/types.ts";
import { wrapDbError } from "./_sql.ts";
import { isBusyError, openDatabase, withBusyRetry } from "./schema.ts";

/** A connection to one database file, with its statement cache and write transactions. */
export class SqliteConnection {
  readonly path: string;
  readonly config: BrokerConfig;
  #db: Database | undefined;
  #statements = new Map<string, Statement>();

  /** True while an at-least-once batch is open on this connection (see `reserve`). */
  protected reserved = false;

  /**
   * The last `claimedUpperBound()` (`_admin.ts`), kept while it stays exact without a recount: no other
   * connection committed since (`PRAGMA data_version`) and this one only appended messages.
   */
  protected vacuumCounts: { dataVersion: bigint; claimedAtMost: number; total: number } | undefined;

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
    this.vacuumCounts = undefined;
    for (const stmt of this.#statements.values()) stmt.finalize();
    this.#statements.clear();
    db?.close();
  }

  /** `PRAGMA data_version`: changes whenever another connection commits. */
  dataVersion(): bigint {
    return (this.stmt("PRAGMA data_version").get() as { data_version: bigint }).data_version;
  }

  // --- for the store classes ---

  protected stmt(sql: string): Statement {
    let stmt = this.#statements.get(sql);
    if (!stmt) this.#statements.set(sql, (stmt = this.db.prepare(sql)));
    return stmt;
  }

  protected guard(op: string): void {
    if (this.reserved) {
      throw new BackendError(
        `Cannot perform ${op} while an at-least-once batch is being yielded from this connection. Use exactly-once delivery or a separate Queue instance.`,
      );
    }
  }

  protected lastTs(): bigint {
    return (this.stmt("SELECT value FROM meta WHERE key = 'last_ts'").get() as { value: bigint }).value;
  }

  protected advance(ts: bigint): void {
    this.stmt("UPDATE meta SET value = ? WHERE key = 'last_ts' AND value < ?").run(ts, ts);
  }

  /** BEGIN IMMEDIATE … COMMIT with retry on busy; `resync` repairs last_ts after a duplicate id. */
  protected writeTx<T>(fn: () => T, resync = false): T {
    this.vacuumCounts = undefined; // any change through this connection; write() restores them
    const begin = this.stmt("BEGIN IMMEDIATE");
    const commit = this.stmt("COMMIT");
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

  // --- internal ---

  #resync(): void {
    withBusyRetry(() =>
      this.db.run(
        "UPDATE meta SET value = (SELECT MAX(ts) FROM messages) WHERE key = 'last_ts' AND value < (SELECT MAX(ts) FROM messages)",
      ),
    );
  }
}
