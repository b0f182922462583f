/**
 * The PostgreSQL backend's less frequent operations: vacuum under a session
 * advisory lock, alias mutations under a transaction advisory lock, and
 * cleanup, which drops only what SimpleBroker created.
 * @module
 */
import type { SQL } from "bun";
import { ArgumentError, BackendError } from "../../core/errors.ts";
import { wallClockNs } from "../../time/timestamp.ts";
import type { RenameResult, VacuumResult } from "../../core/types.ts";
import { advisoryKey } from "./keys.ts";
import { classifySchema, OWN_RELATIONS, quoteIdent } from "./schema.ts";

/** Rows this instance's claims and moves leave dead before {@link DeadRowSweeper} runs VACUUM. */
const SWEEP_ROWS = 10_000;

/**
 * PostgreSQL's own VACUUM of `messages`, in the background after every
 * {@link SWEEP_ROWS} rows this instance's claims and moves changed. Each
 * change leaves the row's old version in the index of pending rows, and every
 * later claim's scan steps over all of them until a VACUUM removes them, so a
 * drain claim by claim grew with the square of its length (with autovacuum
 * off, as on these machines, nothing else ever removes them). It removes dead
 * row versions only: claimed rows stay until a vacuum of ours deletes them.
 * `SKIP_LOCKED`: when another VACUUM holds the table, this one is skipped.
 */
export class DeadRowSweeper {
  #changed = 0;
  #running: Promise<void> | undefined;
  readonly #run: (op: (db: SQL) => Promise<unknown>) => Promise<unknown>;
  readonly #s: string;

  constructor(run: (op: (db: SQL) => Promise<unknown>) => Promise<unknown>, s: string) {
    this.#run = run;
    this.#s = s;
  }

  /** Count rows claimed or moved; start a sweep when enough are and none is running. */
  add(rows: number): void {
    this.#changed += rows;
    if (this.#changed < SWEEP_ROWS || this.#running) return;
    this.#changed = 0;
    this.#running = this.#run((db) => db.unsafe(`VACUUM (SKIP_LOCKED) ${this.#s}.messages`).simple())
      .then(
        () => undefined,
        () => undefined, // a lost connection or a refused VACUUM: the next sweep tries again
      )
      .finally(() => {
        this.#running = undefined;
      });
  }

  /** Resolves when no sweep is running. */
  async settled(): Promise<void> {
    await this.#running;
  }
}

/**
 * Delete claimed rows in batches of `batch` (one autocommit statement each)
 * on a reserved connection holding `pg_try_advisory_lock` (skip when another
 * process holds it); then `VACUUM (ANALYZE)` when anything was deleted, or
 * `VACUUM (FULL, ANALYZE)` when compacting.
 */
export async function vacuumSchema(db: SQL, schema: string, batch: number, compact: boolean): Promise<VacuumResult> {
  const s = quoteIdent(schema);
  const key = advisoryKey("vacuum", schema);
  const conn = await db.reserve();
  try {
    const [lock] = await conn.unsafe("SELECT pg_try_advisory_lock($1) AS ok", [key]);
    if (!lock.ok) return { vacuumed: 0, ran: false };
    try {
      const size = Math.max(1, Math.trunc(batch));
      let vacuumed = 0;
      for (;;) {
        const res = await conn.unsafe(
          `DELETE FROM ${s}.messages WHERE order_id IN (
             SELECT order_id FROM ${s}.messages WHERE claimed = TRUE LIMIT $1 FOR UPDATE SKIP LOCKED)`,
          [size],
        );
        vacuumed += res.count;
        if (res.count < size) break;
        await Bun.sleep(1);
      }
      // Attempt memory of messages read, acked or deleted since (docs/leases.md#postgresql).
      await conn.unsafe(
        `DELETE FROM ${s}.attempts a WHERE NOT EXISTS (SELECT 1 FROM ${s}.messages m WHERE m.ts = a.ts AND m.claimed = FALSE)`,
      );
      // VACUUM refuses to run inside a transaction block: send it as a simple query.
      // A claim leaves the row's unclaimed version dead and the vacuum above deletes the claimed one;
      // until PostgreSQL's VACUUM removes them, every claim's index scan steps over all of them (with
      // autovacuum off, forever). Plain VACUUM takes no lock that stops readers or writers; --compact
      // rewrites the table (VACUUM FULL, an exclusive lock) to give the space back, as SQLite's does.
      if (compact) await conn.unsafe(`VACUUM (FULL, ANALYZE) ${s}.messages`).simple();
      else if (vacuumed > 0) await conn.unsafe(`VACUUM (ANALYZE) ${s}.messages`).simple();
      return { vacuumed, ran: true };
    } finally {
      await conn.unsafe("SELECT pg_advisory_unlock($1)", [key]).catch(() => {});
    }
  } finally {
    await conn.release();
  }
}

/** Constraints SimpleBroker creates (NOT NULL constraints, which newer servers list too, are always ours). */
const OWN_CONSTRAINTS = ["messages_pkey", "meta_pkey", "aliases_pkey", "meta_singleton_check", "held_pkey", "attempts_pkey"];

/**
 * Everything that would go with our tables or our schema but is not ours:
 * objects placed in the schema, and objects anywhere (a view, a foreign key,
 * a trigger, an index, …) that depend on one of our relations.
 */
const FOREIGN_OBJECTS_SQL = `
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = $1),
own AS (SELECT c.oid FROM pg_class c JOIN ns ON c.relnamespace = ns.oid WHERE c.relname = ANY($2::text[])),
deps AS (
  SELECT d.classid, d.objid, d.deptype FROM pg_depend d JOIN ns ON d.refobjid = ns.oid
   WHERE d.refclassid = 'pg_namespace'::regclass
  UNION
  SELECT d.classid, d.objid, d.deptype FROM pg_depend d
   WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT oid FROM own)
)
SELECT DISTINCT CASE WHEN classid = 'pg_rewrite'::regclass
         THEN pg_describe_object('pg_class'::regclass, (SELECT ev_class FROM pg_rewrite r WHERE r.oid = objid), 0)
         ELSE pg_describe_object(classid, objid, 0) END AS what
  FROM deps
 WHERE deptype <> 'i'
   AND NOT (classid = 'pg_class'::regclass AND objid IN (SELECT oid FROM own))
   AND NOT (classid = 'pg_attrdef'::regclass AND objid IN (SELECT a.oid FROM pg_attrdef a WHERE a.adrelid IN (SELECT oid FROM own)))
   AND NOT (classid = 'pg_constraint'::regclass AND objid IN (
     SELECT c.oid FROM pg_constraint c WHERE c.conrelid IN (SELECT oid FROM own) AND (c.contype = 'n' OR c.conname = ANY($3::text[]))))
 ORDER BY 1`;

/**
 * `--cleanup`: drop our tables and then the schema, only when the schema is
 * ours (magic) and nothing else lives in it or depends on our tables; else
 * one line naming what else is there. False when there was nothing of ours.
 * The drops use RESTRICT, so a dependency missed here fails instead of cascading.
 */
export async function dropOwnSchema(sql: SQL, schema: string): Promise<boolean> {
  const s = quoteIdent(schema);
  return sql.begin(async (tx) => {
    await tx.unsafe("SELECT pg_advisory_xact_lock($1)", [advisoryKey("init", schema)]);
    const state = await classifySchema(tx, schema);
    if (state === "absent" || state === "empty") return false;
    if (state !== "owned") {
      throw new BackendError(`PostgreSQL schema '${schema}' is not a SimpleBroker schema; refusing to drop it`);
    }
    const rows: { what: string }[] = await tx.unsafe(FOREIGN_OBJECTS_SQL, [schema, [...OWN_RELATIONS], OWN_CONSTRAINTS]);
    if (rows.length > 0) {
      const shown = rows.slice(0, 5).map((r) => r.what);
      const more = rows.length > 5 ? ` and ${rows.length - 5} more` : "";
      throw new BackendError(
        `PostgreSQL schema '${schema}' also holds or feeds objects SimpleBroker did not create (${shown.join(", ")}${more}); refusing to drop it`,
      );
    }
    await tx.unsafe(`DROP TABLE IF EXISTS ${s}.messages, ${s}.meta, ${s}.aliases, ${s}.held, ${s}.attempts RESTRICT`);
    await tx.unsafe(`DROP SCHEMA ${s} RESTRICT`);
    return true;
  });
}

/**
 * Add `alias` → `target` in one transaction under the aliases advisory lock,
 * refusing duplicates, alias-of-alias and cycles (as the SQLite store does).
 */
export async function addAlias(db: SQL, schema: string, alias: string, target: string): Promise<void> {
  await aliasTx(db, schema, async (tx, s) => {
    const rows: { alias: string; target: string }[] = await tx.unsafe(`SELECT alias, target FROM ${s}.aliases`);
    const map = new Map(rows.map((r) => [r.alias, r.target]));
    if (map.has(alias)) throw new ArgumentError(`Alias '${alias}' already exists`);
    if (map.has(target)) throw new ArgumentError("Cannot target another alias");
    // Walk the chain from the target: reaching the new alias would close a cycle.
    for (let t: string | undefined = target, hops = 0; t !== undefined && hops <= map.size; hops++) {
      if (t === alias) throw new ArgumentError("Alias cycle detected");
      t = map.get(t);
    }
    await tx.unsafe(`INSERT INTO ${s}.aliases (alias, target) VALUES ($1, $2)`, [alias, target]);
    return true;
  });
}

/** Remove an alias; false when it did not exist. */
export async function removeAlias(db: SQL, schema: string, alias: string): Promise<boolean> {
  return aliasTx(db, schema, async (tx, s) => {
    const res = await tx.unsafe(`DELETE FROM ${s}.aliases WHERE alias = $1`, [alias]);
    return res.count > 0;
  });
}

/**
 * Retag every row of `source` to `target` in one transaction (the table
 * locked against writers, so `target` cannot gain rows meanwhile), then with
 * `retarget` point the aliases of `source` at `target` and bump the alias version.
 */
export async function renameQueue(
  db: SQL,
  schema: string,
  source: string,
  target: string,
  retarget: boolean,
  channel: string,
): Promise<RenameResult> {
  const s = quoteIdent(schema);
  return db.begin(async (tx) => {
    await tx.unsafe(`LOCK TABLE ${s}.messages IN SHARE ROW EXCLUSIVE MODE`);
    const taken = await tx.unsafe(`SELECT 1 FROM ${s}.messages WHERE queue = $1 LIMIT 1`, [target]);
    if (taken.length) throw new ArgumentError("Target queue already exists");
    const moved = await tx.unsafe(`UPDATE ${s}.messages SET queue = $1 WHERE queue = $2`, [target, source]);
    const held = await tx.unsafe(`UPDATE ${s}.held SET queue = $1 WHERE queue = $2`, [target, source]);
    const messages = Number(moved.count) + Number(held.count);
    if (messages === 0) return { messages, aliases: 0 };
    await tx.unsafe("SELECT pg_notify($1, $2)", [channel, target]);
    if (!retarget) return { messages, aliases: 0 };
    await tx.unsafe("SELECT pg_advisory_xact_lock($1)", [advisoryKey("aliases", schema)]);
    const re = await tx.unsafe(`UPDATE ${s}.aliases SET target = $1 WHERE target = $2`, [target, source]);
    const aliases = Number(re.count);
    if (aliases > 0) {
      await tx.unsafe(`UPDATE ${s}.meta SET alias_version = GREATEST(alias_version + 1, $1) WHERE singleton`, [wallClockNs()]);
    }
    return { messages, aliases };
  });
}

/** Advisory transaction lock, then `fn`, then bump `meta.alias_version`. */
async function aliasTx(db: SQL, schema: string, fn: (tx: SQL, s: string) => Promise<boolean>): Promise<boolean> {
  const s = quoteIdent(schema);
  return db.begin(async (tx) => {
    await tx.unsafe("SELECT pg_advisory_xact_lock($1)", [advisoryKey("aliases", schema)]);
    const out = await fn(tx, s);
    await tx.unsafe(`UPDATE ${s}.meta SET alias_version = GREATEST(alias_version + 1, $1) WHERE singleton`, [wallClockNs()]);
    return out;
  });
}
