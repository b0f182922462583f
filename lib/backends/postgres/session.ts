/**
 * One backend instance's access to the server: the lazily opened pool, the
 * once-per-process schema check, and `run()`, which retries what is worth
 * retrying and turns every other failure into a {@link BackendError}.
 * @module
 */
import type { SQL } from "bun";
import { type ConnectionInfo, openPool, sqlState, wrapError } from "./connection.ts";
import { quoteIdent, schemaIsReady, setUpSchema } from "./schema.ts";

/** Stores (target + schema) already created or verified by this process. */
const verified = new Set<string>();

/** One backend instance's pool: opened lazily, schema verified once per process, retries on deadlock. */
export class PgSession {
  readonly info: ConnectionInfo;
  readonly schema: string;
  readonly #s: string;
  readonly #key: string;
  readonly #poolSize: number;
  readonly #onOpen: () => void;
  #sql: SQL | undefined;
  #ready: Promise<void> | undefined;

  /** `onOpen` runs whenever a new pool is opened (first use, or use after close). */
  constructor(info: ConnectionInfo, schema: string, poolSize: number, onOpen: () => void) {
    this.info = info;
    this.schema = schema;
    this.#s = quoteIdent(schema);
    this.#key = `${info.display}\0${schema}`;
    this.#poolSize = poolSize;
    this.#onOpen = onOpen;
  }

  /** The pool, opened on first use (Bun connects on the first query). */
  db(): SQL {
    if (!this.#sql) {
      this.#sql = openPool(this.info, this.#poolSize);
      this.#onOpen();
    }
    return this.#sql;
  }

  /** Forget that the schema was verified: the next operation checks (and creates) it again. */
  forget(): void {
    verified.delete(this.#key);
    this.#ready = undefined;
  }

  async close(): Promise<void> {
    const db = this.#sql;
    this.#sql = undefined;
    this.#ready = undefined;
    await db?.close({ timeout: 5 }).catch(() => {});
  }

  /**
   * Run `op` on the pool after making sure the schema exists. Deadlocks and
   * serialization failures are retried; a schema dropped underneath is set up
   * again once (as is a missing column); a duplicate id (a peer that did not advance `last_ts`)
   * resynchronises `last_ts` and retries. Errors come out as BackendError.
   */
  async run<T>(op: (db: SQL) => Promise<T>, ensure = true): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (ensure) await this.#ensure();
        return await op(this.db());
      } catch (error) {
        const state = sqlState(error);
        if (attempt < 4 && (state === "40P01" || state === "40001")) {
          await Bun.sleep(5 * 2 ** attempt + Math.random() * 10);
          continue;
        }
        // A table, schema or column missing (the store was changed underneath): set up again once.
        if (ensure && attempt < 1 && (state === "42P01" || state === "3F000" || state === "42703")) {
          this.forget();
          continue;
        }
        if (attempt < 2 && state === "23505" && (error as { constraint?: string }).constraint === "idx_messages_ts_unique") {
          await this.#resync().catch(() => {});
          continue;
        }
        throw wrapError(error, this.info);
      }
    }
  }

  // --- internal ---

  async #ensure(): Promise<void> {
    if (verified.has(this.#key)) return;
    this.#ready ??= (async () => {
      const db = this.db();
      if (!(await schemaIsReady(db, this.schema))) await setUpSchema(db, this.schema);
      verified.add(this.#key);
    })();
    try {
      await this.#ready;
    } catch (error) {
      this.#ready = undefined;
      throw error;
    }
  }

  async #resync(): Promise<void> {
    await this.db().unsafe(
      `UPDATE ${this.#s}.meta SET last_ts = GREATEST(last_ts, (SELECT COALESCE(MAX(ts), 0) FROM ${this.#s}.messages)) WHERE singleton`,
    );
  }
}
