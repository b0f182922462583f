/**
 * The PostgreSQL backend (SPEC §7.2) on Bun's built-in SQL client: every
 * object in one dedicated schema, FIFO by `order_id`, exactly-once claims
 * with `FOR UPDATE SKIP LOCKED`, ids from the hybrid clock allocated under
 * the `meta` row lock inside the insert transaction, and LISTEN/NOTIFY
 * wake-ups. The pool opens on first use; the schema is created or verified
 * once per process.
 * @module
 */
import type { SQL } from "bun";
import { DEFAULT_PG_SCHEMA } from "../../backend-target.ts";
import { ArgumentError } from "../../errors.ts";
import { nextHybridTimestamp, wallClockNs } from "../../timestamp.ts";
import type {
  Backend, BrokerConfig, BrokerStatus, Message, QueueStats, Reservation, Selection, VacuumResult,
} from "../../types.ts";
import { fnmatch, patternPrefix, validateQueuePrefix } from "../../validate.ts";
import { type ConnectionInfo, openPool, parseTarget, sqlState, wrapError } from "./connection.ts";
import { advisoryKey, channelFor } from "./keys.ts";
import { ActivityListener } from "./notify.ts";
import {
  claimSql, decodeBody, insertSql, lockMetaSql, moveSql, peekSql, statsSql, toMessages, vacuumBatchSql,
} from "./ops.ts";
import { dropSchema, quoteIdent, schemaIsReady, setUpSchema, validateSchemaName } from "./schema.ts";

/** Options of the PostgreSQL backend. */
export interface PostgresBackendOptions {
  url: string;
  options: Record<string, unknown>;
  config: BrokerConfig;
}

/** Stores (target + schema) already created or verified by this process. */
const verified = new Set<string>();

type StatRow = { queue: string; pending: bigint; total: bigint };

/** The PostgreSQL implementation of {@link Backend}. */
export class PostgresBackend implements Backend {
  readonly name = "postgres";
  readonly displayTarget: string;
  /** The schema holding this store. */
  readonly schema: string;
  /** The LISTEN/NOTIFY channel of the schema. */
  readonly channel: string;
  readonly #info: ConnectionInfo;
  readonly #config: BrokerConfig;
  readonly #s: string;
  readonly #key: string;
  readonly #poolSize: number;
  readonly #listener: ActivityListener;
  #sql: SQL | undefined;
  #ready: Promise<void> | undefined;

  constructor(opts: PostgresBackendOptions) {
    this.schema = String(opts.options.schema ?? DEFAULT_PG_SCHEMA);
    validateSchemaName(this.schema);
    this.#info = parseTarget(opts.url);
    this.#config = opts.config;
    this.#s = quoteIdent(this.schema);
    this.#key = `${this.#info.display}\0${this.schema}`;
    // Bun opens the whole pool at the first query: keep it small (one connection for work, one
    // spare while a reservation is open). `pool_size` in backend_options raises it.
    this.#poolSize = Math.max(2, Math.trunc(Number(opts.options.pool_size ?? 2)) || 2);
    this.displayTarget = `${this.#info.display} (schema ${this.schema})`;
    this.channel = channelFor(this.schema);
    this.#listener = new ActivityListener(this.channel, () => this.#db());
  }

  /** Create or verify the schema (idempotent, safe across concurrent processes). */
  async init(): Promise<void> {
    verified.delete(this.#key);
    this.#ready = undefined;
    await this.#run(async () => undefined);
  }

  /** Resolve once this instance's LISTEN is in place (so no later NOTIFY is missed). */
  async listening(): Promise<void> {
    try {
      await this.#listener.ready();
    } catch (error) {
      throw wrapError(error, this.#info);
    }
  }

  async close(): Promise<void> {
    const db = this.#sql;
    this.#sql = undefined;
    this.#ready = undefined;
    await this.#listener.close();
    await db?.close({ timeout: 5 }).catch(() => {});
  }

  async write(queue: string, bodies: string[]): Promise<bigint[]> {
    if (bodies.length === 0) return [];
    return this.#run((db) =>
      db.begin(async (tx) => {
        const ids = this.#allocate((await tx.unsafe(lockMetaSql(this.#s)))[0].last_ts, bodies.length);
        const st = insertSql(this.#s, bodies.map(() => queue), bodies, ids, this.channel);
        await tx.unsafe(st.text, st.params);
        return ids;
      }),
    );
  }

  async claim(queue: string, sel: Selection = {}): Promise<Message[]> {
    const st = claimSql(this.#s, queue, sel);
    return toMessages(await this.#run((db) => db.unsafe(st.text, st.params)));
  }

  async peek(queue: string, sel: Selection = {}): Promise<Message[]> {
    const st = peekSql(this.#s, queue, sel);
    const rows: { body: string; ts: bigint }[] = await this.#run((db) => db.unsafe(st.text, st.params));
    return rows.map((r) => ({ body: decodeBody(r.body), ts: r.ts }));
  }

  async move(source: string, target: string, sel: Selection = {}): Promise<Message[]> {
    const st = moveSql(this.#s, source, target, sel, this.channel);
    return toMessages(await this.#run((db) => db.unsafe(st.text, st.params)));
  }

  /** Claim or move on a reserved connection inside an open transaction; commit/rollback end it. */
  async reserve(queue: string, sel: Selection, moveTo?: string): Promise<Reservation> {
    const st = moveTo === undefined ? claimSql(this.#s, queue, sel) : moveSql(this.#s, queue, moveTo, sel, this.channel);
    return this.#run(async (db) => {
      const conn = await db.reserve();
      let rows;
      try {
        await conn.unsafe("BEGIN");
        rows = await conn.unsafe(st.text, st.params);
      } catch (error) {
        await conn.unsafe("ROLLBACK").catch(() => {});
        await conn.release();
        throw error;
      }
      let open = true;
      const end = async (command: "COMMIT" | "ROLLBACK") => {
        if (!open) return;
        open = false;
        try {
          await conn.unsafe(command);
        } catch (error) {
          throw wrapError(error, this.#info, `${command} of a reserved batch failed`);
        } finally {
          await conn.release();
        }
      };
      return { messages: toMessages(rows), commit: () => end("COMMIT"), rollback: () => end("ROLLBACK") };
    });
  }

  async deleteQueue(queue?: string): Promise<number> {
    const res = await this.#run((db) =>
      queue === undefined
        ? db.unsafe(`DELETE FROM ${this.#s}.messages`)
        : db.unsafe(`DELETE FROM ${this.#s}.messages WHERE queue = $1`, [queue]),
    );
    return res.count;
  }

  /** One message per queue with rows, atomically: `meta` locked, then the table in SHARE ROW EXCLUSIVE mode. */
  async broadcast(body: string, pattern?: string): Promise<number> {
    return this.#run((db) =>
      db.begin(async (tx) => {
        const [meta] = await tx.unsafe(lockMetaSql(this.#s));
        await tx.unsafe(`LOCK TABLE ${this.#s}.messages IN SHARE ROW EXCLUSIVE MODE`);
        const rows = await tx.unsafe(`SELECT queue FROM ${this.#s}.messages GROUP BY queue ORDER BY queue COLLATE "C"`);
        const names = (rows as { queue: string }[]).map((r) => r.queue).filter((q) => !pattern || fnmatch(q, pattern));
        if (names.length === 0) return 0;
        const st = insertSql(this.#s, names, names.map(() => body), this.#allocate(meta.last_ts, names.length), this.channel);
        await tx.unsafe(st.text, st.params);
        return names.length;
      }),
    );
  }

  async listStats(filter: { prefix?: string; pattern?: string } = {}): Promise<QueueStats[]> {
    if (filter.prefix !== undefined && filter.pattern !== undefined) {
      throw new ArgumentError("prefix and pattern cannot be used together");
    }
    const prefix = filter.prefix ?? (filter.pattern !== undefined ? patternPrefix(filter.pattern) : "");
    if (filter.prefix !== undefined || filter.pattern !== undefined) validateQueuePrefix(prefix);
    const st = statsSql(this.#s, prefix);
    const rows: StatRow[] = await this.#run((db) => db.unsafe(st.text, st.params));
    return rows.filter((r) => filter.pattern === undefined || fnmatch(r.queue, filter.pattern)).map(toStats);
  }

  async queueStats(queue: string): Promise<QueueStats> {
    const [row] = await this.#run((db) =>
      db.unsafe(
        `SELECT $1::text AS queue, count(*) FILTER (WHERE claimed = FALSE) AS pending, count(*) AS total
         FROM ${this.#s}.messages WHERE queue = $1`,
        [queue],
      ),
    );
    return toStats(row);
  }

  async hasPending(queue: string, after?: bigint): Promise<boolean> {
    const head = `SELECT EXISTS (SELECT 1 FROM ${this.#s}.messages WHERE queue = $1 AND claimed = FALSE`;
    const [row] = await this.#run((db) =>
      after === undefined ? db.unsafe(`${head}) AS e`, [queue]) : db.unsafe(`${head} AND ts > $2) AS e`, [queue, after]),
    );
    return row.e === true;
  }

  async status(): Promise<BrokerStatus> {
    const [row] = await this.#run((db) =>
      db.unsafe(
        `SELECT (SELECT count(*) FROM ${this.#s}.messages) AS n, (SELECT last_ts FROM ${this.#s}.meta WHERE singleton) AS last_ts,
           pg_total_relation_size('${this.#s}.messages'::regclass) AS size`,
      ),
    );
    return { totalMessages: Number(row.n), lastTimestamp: row.last_ts, dbSize: Number(row.size) };
  }

  async generateTimestamp(): Promise<bigint> {
    return this.#run((db) =>
      db.begin(async (tx) => {
        const [ts] = this.#allocate((await tx.unsafe(lockMetaSql(this.#s)))[0].last_ts, 1);
        await tx.unsafe(`UPDATE ${this.#s}.meta SET last_ts = $1 WHERE singleton`, [ts]);
        return ts!;
      }),
    );
  }

  async lastTimestamp(): Promise<bigint> {
    const [row] = await this.#run((db) => db.unsafe(`SELECT last_ts FROM ${this.#s}.meta WHERE singleton`));
    return row.last_ts;
  }

  async listAliases(): Promise<Array<[string, string]>> {
    const rows: { alias: string; target: string }[] = await this.#run((db) =>
      db.unsafe(`SELECT alias, target FROM ${this.#s}.aliases ORDER BY alias COLLATE "C"`),
    );
    return rows.map((r) => [r.alias, r.target]);
  }

  async resolveAlias(alias: string): Promise<string | undefined> {
    const [row] = await this.#run((db) => db.unsafe(`SELECT target FROM ${this.#s}.aliases WHERE alias = $1`, [alias]));
    return row?.target;
  }

  async addAlias(alias: string, target: string): Promise<void> {
    await this.#aliasTx(async (tx) => {
      const rows: { alias: string; target: string }[] = await tx.unsafe(`SELECT alias, target FROM ${this.#s}.aliases`);
      const map = new Map(rows.map((r) => [r.alias, r.target]));
      if (map.has(alias)) throw new ArgumentError(`Alias '${alias}' already exists`);
      if (map.has(target)) throw new ArgumentError("Cannot target another alias");
      // Walk the chain from the target: reaching the new alias would close a cycle.
      for (let t: string | undefined = target, hops = 0; t !== undefined && hops <= map.size; hops++) {
        if (t === alias) throw new ArgumentError("Alias cycle detected");
        t = map.get(t);
      }
      await tx.unsafe(`INSERT INTO ${this.#s}.aliases (alias, target) VALUES ($1, $2)`, [alias, target]);
      return true;
    });
  }

  async removeAlias(alias: string): Promise<boolean> {
    return this.#aliasTx(async (tx) => {
      const res = await tx.unsafe(`DELETE FROM ${this.#s}.aliases WHERE alias = $1`, [alias]);
      return res.count > 0;
    });
  }

  /** Delete claimed rows in batches under a session advisory lock (skip when busy); `compact` adds VACUUM (ANALYZE). */
  async vacuum(compact = false): Promise<VacuumResult> {
    const key = advisoryKey("vacuum", this.schema);
    return this.#run(async (db) => {
      const conn = await db.reserve();
      try {
        const [lock] = await conn.unsafe("SELECT pg_try_advisory_lock($1) AS ok", [key]);
        if (!lock.ok) return { vacuumed: 0, ran: false };
        try {
          const batch = Math.max(1, this.#config.vacuumBatchSize);
          let vacuumed = 0;
          for (;;) {
            const n = (await conn.unsafe(vacuumBatchSql(this.#s), [batch])).count;
            vacuumed += n;
            if (n < batch) break;
            await Bun.sleep(1);
          }
          if (compact) await conn.unsafe(`VACUUM (ANALYZE) ${this.#s}.messages`).simple();
          else if (vacuumed > 0) await conn.unsafe(`ANALYZE ${this.#s}.messages`).simple();
          return { vacuumed, ran: true };
        } finally {
          await conn.unsafe("SELECT pg_advisory_unlock($1)", [key]).catch(() => {});
        }
      } finally {
        await conn.release();
      }
    });
  }

  /** Drop the schema if it is recognisably ours; false when nothing of ours existed. */
  async cleanup(): Promise<boolean> {
    verified.delete(this.#key);
    this.#ready = undefined;
    try {
      return await dropSchema(this.#db(), this.schema);
    } catch (error) {
      throw wrapError(error, this.#info);
    } finally {
      verified.delete(this.#key);
    }
  }

  waitForActivity(queues: string[], timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.#listener.wait(queues, timeoutMs, signal);
  }

  // --- internal ---

  #db(): SQL {
    if (!this.#sql) {
      this.#sql = openPool(this.#info, this.#poolSize);
      this.#listener.reopen();
    }
    return this.#sql;
  }

  /** `count` fresh ids after `last` (the caller holds the `meta` row lock and stores the last one). */
  #allocate(last: bigint, count: number): bigint[] {
    const ids: bigint[] = new Array(count);
    for (let i = 0; i < count; i++) ids[i] = last = nextHybridTimestamp(last, wallClockNs());
    return ids;
  }

  /** An alias mutation: advisory transaction lock, then `fn`, then bump `meta.alias_version`. */
  #aliasTx<T>(fn: (tx: SQL) => Promise<T>): Promise<T> {
    return this.#run((db) =>
      db.begin(async (tx) => {
        await tx.unsafe("SELECT pg_advisory_xact_lock($1)", [advisoryKey("aliases", this.schema)]);
        const out = await fn(tx);
        await tx.unsafe(`UPDATE ${this.#s}.meta SET alias_version = GREATEST(alias_version + 1, $1) WHERE singleton`, [
          wallClockNs(),
        ]);
        return out as Awaited<T>;
      }),
    ) as Promise<T>;
  }

  async #ensure(): Promise<void> {
    if (verified.has(this.#key)) return;
    this.#ready ??= (async () => {
      const db = this.#db();
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

  /**
   * Run `op` on the pool after making sure the schema exists. Deadlocks and
   * serialization failures are retried; a schema dropped underneath is set up
   * again once; a duplicate id (a peer that did not advance `last_ts`)
   * resynchronises `last_ts` and retries. Errors come out as BackendError.
   */
  async #run<T>(op: (db: SQL) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#ensure();
        return await op(this.#db());
      } catch (error) {
        const state = sqlState(error);
        if (attempt < 4 && (state === "40P01" || state === "40001")) {
          await Bun.sleep(5 * 2 ** attempt + Math.random() * 10);
          continue;
        }
        if (attempt < 1 && (state === "42P01" || state === "3F000")) {
          verified.delete(this.#key);
          this.#ready = undefined;
          continue;
        }
        if (attempt < 2 && state === "23505" && (error as { constraint?: string }).constraint === "idx_messages_ts_unique") {
          await this.#resync();
          continue;
        }
        throw wrapError(error, this.#info);
      }
    }
  }

  async #resync(): Promise<void> {
    await this.#db().unsafe(
      `UPDATE ${this.#s}.meta SET last_ts = GREATEST(last_ts, (SELECT COALESCE(MAX(ts), 0) FROM ${this.#s}.messages)) WHERE singleton`,
    );
  }
}

/** Create a PostgreSQL backend (the pool opens lazily on first use). */
export function createPostgresBackend(opts: PostgresBackendOptions): Backend {
  return new PostgresBackend(opts);
}

function toStats(r: StatRow): QueueStats {
  const pending = Number(r.pending ?? 0n);
  const total = Number(r.total ?? 0n);
  return { queue: r.queue, pending, claimed: total - pending, total, exists: total > 0 };
}
