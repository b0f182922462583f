/**
 * The PostgreSQL backend's less frequent operations: vacuum under a session
 * advisory lock, and alias mutations under a transaction advisory lock.
 * @module
 */
import type { SQL } from "bun";
import { ArgumentError } from "../../core/errors.ts";
import { wallClockNs } from "../../time/timestamp.ts";
import type { VacuumResult } from "../../core/types.ts";
import { advisoryKey } from "./keys.ts";
import { quoteIdent } from "./schema.ts";

/**
 * Delete claimed rows in batches of `batch` (one autocommit statement each)
 * on a reserved connection holding `pg_try_advisory_lock` (skip when another
 * process holds it); then `VACUUM (ANALYZE)` when compacting, else `ANALYZE`
 * when anything was deleted.
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
      // VACUUM refuses to run inside a transaction block: send it as a simple query.
      if (compact) await conn.unsafe(`VACUUM (ANALYZE) ${s}.messages`).simple();
      else if (vacuumed > 0) await conn.unsafe(`ANALYZE ${s}.messages`).simple();
      return { vacuumed, ran: true };
    } finally {
      await conn.unsafe("SELECT pg_advisory_unlock($1)", [key]).catch(() => {});
    }
  } finally {
    await conn.release();
  }
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
