/**
 * The PostgreSQL backend (docs/on-disk-format.md#postgres) on Bun's built-in SQL client: every
 * object in one dedicated schema, FIFO by `order_id`, exactly-once claims
 * with `FOR UPDATE SKIP LOCKED`, ids from the hybrid clock allocated under
 * the `meta` row lock inside the insert transaction, and LISTEN/NOTIFY
 * wake-ups. The pool opens on first use; the schema is created or verified
 * once per process.
 * @module
 */
import type { SQL } from "bun";
import { nextHybridTimestamps } from "../../time/timestamp.ts";
import type {
  Backend,
  BroadcastTargets,
  BrokerConfig,
  BrokerStatus,
  LoadInput,
  LoadResult,
  Message,
  QueueStats,
  RenameResult,
  Reservation,
  Selection,
  VacuumResult,
} from "../../core/types.ts";
import { BackendError } from "../../core/errors.ts";
import { broadcastQueues } from "../_broadcast.ts";
import { parseTarget, wrapError } from "./connection.ts";
import { channelFor, DEFAULT_PG_SCHEMA } from "./keys.ts";
import { addAlias, DeadRowSweeper, dropOwnSchema, removeAlias, renameQueue, vacuumSchema } from "./maintenance.ts";
import { ActivityListener } from "./notify.ts";
import { decodeBody, insertSql, lockMetaSql, moveSql, peekSql, type StatRow, statsSql, toMessages, toStats } from "./ops.ts";
import { quoteIdent, validateSchemaName } from "./schema.ts";
import { PgSession } from "./session.ts";
import { loadIntoPostgres } from "./load.ts";
import { type ReserveContext, reserve } from "./reserve.ts";
import { PgHeld } from "./leases.ts";
import { PgWriteGroup } from "./group-write.ts";
import { deleteMessages, hasPendingSql } from "./lease-sql.ts";
import { ClaimTokens, claimKey } from "../claim-tokens.ts";
import { claimOnce, unsent } from "./claim-token.ts";

/** Options of the PostgreSQL backend. */
export interface PostgresBackendOptions {
  url: string;
  options: Record<string, unknown>;
  config: BrokerConfig;
}

/** The PostgreSQL implementation of {@link Backend}. */
export class PostgresBackend implements Backend {
  readonly name = "postgres";
  readonly displayTarget: string;
  /** The schema holding this store. */
  readonly schema: string;
  /** The LISTEN/NOTIFY channel of the schema. */
  readonly channel: string;
  readonly #config: BrokerConfig;
  readonly #s: string;
  readonly #session: PgSession;
  readonly #listener: ActivityListener;
  readonly #held: PgHeld;
  readonly #writes: PgWriteGroup;
  readonly #tokens: ClaimTokens;
  readonly #reserving: ReserveContext;
  readonly #sweeper: DeadRowSweeper;

  constructor(opts: PostgresBackendOptions) {
    this.schema = String(opts.options.schema ?? DEFAULT_PG_SCHEMA);
    validateSchemaName(this.schema);
    const info = parseTarget(opts.url, opts.config.backendConnectTimeout);
    this.#config = opts.config;
    this.#s = quoteIdent(this.schema);
    // Bun opens the whole pool at the first query: keep it small (one connection for work, one
    // spare while a reservation is open). `pool_size` in backend_options raises it.
    const poolSize = Math.max(2, Math.trunc(Number(opts.options.pool_size ?? 2)) || 2);
    this.displayTarget = `${info.display} (schema ${this.schema})`;
    this.channel = channelFor(this.schema);
    this.#session = new PgSession(info, this.schema, poolSize, () => this.#listener.reopen());
    this.#listener = new ActivityListener(this.channel, () => this.#session.db());
    this.#held = new PgHeld((op) => this.#run(op), this.#s, this.channel);
    Object.assign(this, this.#held.capabilities());
    this.#writes = new PgWriteGroup((op) => this.#run(op), this.#s, this.channel);
    this.#tokens = new ClaimTokens(info.connectTimeout);
    this.#sweeper = new DeadRowSweeper((op) => this.#run(op), this.#s);
    this.#reserving = {
      run: (op) => this.#run(op),
      tokens: this.#tokens,
      s: this.#s,
      channel: this.channel,
      promote: (db, queue) => this.#held.promote(db, queue),
      wrap: (error, command) => wrapError(error, this.#session.info, `${command} of a reserved batch failed`),
    };
  }

  /** Create or verify the schema (idempotent, safe across concurrent processes). */
  async init(): Promise<void> {
    this.#session.forget();
    await this.#run(async () => undefined);
  }

  /** Resolve once this instance's LISTEN is in place (so no later NOTIFY is missed). */
  async listening(): Promise<void> {
    try {
      await this.#listener.ready();
    } catch (error) {
      throw wrapError(error, this.#session.info);
    }
  }

  async close(): Promise<void> {
    await this.#sweeper.settled();
    await this.#listener.close();
    await this.#session.close();
  }

  /** Concurrent writes of this instance share one statement (group-write.ts). */
  write(queue: string, bodies: string[]): Promise<bigint[]> {
    return this.#writes.write(queue, bodies);
  }

  /** A claim whose answer is lost is collected by its token (claim-token.ts, ../claim-tokens.ts). */
  async claim(queue: string, sel: Selection = {}): Promise<Message[]> {
    const claimed = await this.#tokens.run(
      claimKey("claim", queue, sel),
      (token, reused) =>
        this.#run((db) => claimOnce(db, this.#s, queue, sel, token, reused, (st) => this.#held.afterDue(db, queue, st))),
      unsent,
    );
    this.#sweeper.add(claimed.length);
    return claimed;
  }

  async peek(queue: string, sel: Selection = {}): Promise<Message[]> {
    const st = peekSql(this.#s, queue, sel);
    const rows: { body: string; ts: bigint }[] = await this.#run((db) => this.#held.afterDue(db, queue, st));
    return rows.map((r) => ({ body: decodeBody(r.body), ts: r.ts }));
  }

  async move(source: string, target: string, sel: Selection = {}): Promise<Message[]> {
    const st = moveSql(this.#s, source, target, sel, this.channel);
    const moved = toMessages(await this.#run((db) => this.#held.afterDue(db, source, st)));
    this.#sweeper.add(moved.length);
    return moved;
  }

  /** Claim or move on a reserved connection inside an open transaction; commit/rollback end it (reserve.ts). */
  reserve(queue: string, sel: Selection, moveTo?: string): Promise<Reservation> {
    return reserve(this.#reserving, queue, sel, moveTo);
  }

  async deleteQueue(queue?: string): Promise<number> {
    return this.#run((db) => deleteMessages(db, this.#s, queue));
  }

  /**
   * One message per chosen queue with rows (see `BroadcastTargets`), atomically:
   * `meta` locked, then the table in SHARE ROW EXCLUSIVE mode. Names were chosen
   * before: under the locks there are only set lookups.
   */
  async broadcast(body: string, targets?: BroadcastTargets): Promise<number> {
    return this.#run((db) =>
      db.begin(async (tx) => {
        const [meta] = await tx.unsafe(lockMetaSql(this.#s));
        await tx.unsafe(`LOCK TABLE ${this.#s}.messages IN SHARE ROW EXCLUSIVE MODE`);
        const rows = await tx.unsafe(`SELECT queue FROM ${this.#s}.messages GROUP BY queue ORDER BY queue COLLATE "C"`);
        const names = broadcastQueues(
          (rows as { queue: string }[]).map((r) => r.queue),
          targets,
        );
        if (names === null) return -1;
        if (names.length === 0) return 0;
        const st = insertSql(
          this.#s,
          names,
          names.map(() => body),
          nextHybridTimestamps(meta.last_ts, names.length),
          this.channel,
        );
        await tx.unsafe(st.text, st.params);
        return names.length;
      }),
    );
  }

  /** Stats of every queue with rows, sorted by name; a `prefix` narrows the scan. */
  async listStats(filter: { prefix?: string } = {}): Promise<QueueStats[]> {
    const st = statsSql(this.#s, filter.prefix ?? "");
    const rows: StatRow[] = await this.#run((db) => this.#held.promoted(db, undefined, st));
    return rows.map(toStats);
  }

  async queueStats(queue: string): Promise<QueueStats> {
    const text = `SELECT $1::text AS queue, count(*) FILTER (WHERE claimed = FALSE) AS pending, count(*) AS total
      FROM ${this.#s}.messages WHERE queue = $1`;
    const [row] = await this.#run((db) => this.#held.promoted<StatRow[]>(db, queue, { text, params: [queue] }));
    return toStats(row!);
  }

  /** A due held message counts: the claim that follows returns it first. */
  async hasPending(queue: string, after?: bigint): Promise<boolean> {
    const st = hasPendingSql(this.#s, queue, after);
    const [row] = await this.#run((db) => db.unsafe(st.text, st.params));
    return row.e === true;
  }

  async status(): Promise<BrokerStatus> {
    const [row] = await this.#run((db) =>
      db.unsafe(
        `SELECT (SELECT count(*) FROM ${this.#s}.messages) + (SELECT count(*) FROM ${this.#s}.held) AS n, (SELECT last_ts FROM ${this.#s}.meta WHERE singleton) AS last_ts,
           pg_total_relation_size('${this.#s}.messages'::regclass) AS size`,
      ),
    );
    return { totalMessages: Number(row.n), lastTimestamp: row.last_ts, dbSize: Number(row.size) };
  }

  async generateTimestamp(): Promise<bigint> {
    return this.#run((db) =>
      db.begin(async (tx) => {
        const [ts] = nextHybridTimestamps((await tx.unsafe(lockMetaSql(this.#s)))[0].last_ts, 1);
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
    await this.#run((db) => addAlias(db, this.schema, alias, target));
  }

  async removeAlias(alias: string): Promise<boolean> {
    return this.#run((db) => removeAlias(db, this.schema, alias));
  }

  /** Load a dump in one transaction. Run once: a retry could not replay records already streamed. */
  async load(input: LoadInput): Promise<LoadResult> {
    let started = false;
    return this.#run((db) => {
      if (started) throw new BackendError("A load cannot be retried after its transaction failed; nothing was changed");
      started = true;
      return loadIntoPostgres(db, this.schema, this.channel, input);
    });
  }

  async rename(source: string, target: string, retargetAliases: boolean): Promise<RenameResult> {
    return this.#run((db) => renameQueue(db, this.schema, source, target, retargetAliases, this.channel));
  }

  /** Delete claimed rows in batches under a session advisory lock (skip when busy); `compact` adds VACUUM (ANALYZE). */
  async vacuum(compact = false): Promise<VacuumResult> {
    return this.#session.run((db) => vacuumSchema(db, this.schema, this.#config.vacuumBatchSize, compact));
  }

  /** Drop our objects and the schema, refusing when it holds (or something depends on) anything else; false when nothing of ours existed. */
  async cleanup(): Promise<boolean> {
    this.#session.forget();
    try {
      return await this.#session.run((db) => dropOwnSchema(db, this.schema), false);
    } finally {
      this.#session.forget();
    }
  }

  waitForActivity(queues: string[], timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.#held.wait(queues, timeoutMs, signal, (ms, sig) => this.#listener.wait(queues, ms, sig));
  }

  // --- internal ---

  #run<T>(op: (db: SQL) => Promise<T>): Promise<T> {
    return this.#session.run(op);
  }
}

/** Create a PostgreSQL backend (the pool opens lazily on first use). */
export function createPostgresBackend(opts: PostgresBackendOptions): Backend {
  return new PostgresBackend(opts);
}
