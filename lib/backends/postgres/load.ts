/**
 * Loading a dump into PostgreSQL: every record in one transaction (the
 * `meta` row locked first, as writers do), so a load that fails anywhere
 * leaves the schema exactly as it was. Messages go in as multi-row INSERTs
 * of {@link BATCH}; a duplicate id is found by the rows an INSERT … ON
 * CONFLICT DO NOTHING did not return.
 * @module
 */
import type { SQL } from "bun";
import type { LoadInput, LoadRecord, LoadResult } from "../../core/types.ts";
import { wallClockNs } from "../../time/timestamp.ts";
import { advisoryKey } from "./keys.ts";
import { encodeBody } from "./ops.ts";
import { quoteIdent } from "./schema.ts";

const BATCH = 1000;
type MessageRecord = LoadRecord & { kind: "message" };

/** Apply `input` in one transaction on `db`; `channel` gets one wake-up for every queue loaded. */
export async function loadIntoPostgres(db: SQL, schema: string, channel: string, input: LoadInput): Promise<LoadResult> {
  const s = quoteIdent(schema);
  return db.begin(async (tx) => {
    await tx.unsafe(`SELECT last_ts FROM ${s}.meta WHERE singleton FOR UPDATE`);
    let messages = 0;
    let aliases = 0;
    let batch: MessageRecord[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const rows: { ts: bigint }[] = await tx.unsafe(
        `INSERT INTO ${s}.messages (queue, body, ts)
SELECT u.q, u.b, u.t FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS u(q, b, t, o) ORDER BY u.o
ON CONFLICT (ts) DO NOTHING RETURNING ts`,
        [batch.map((r) => r.queue), batch.map((r) => encodeBody(r.body)), batch.map((r) => String(r.id))],
      );
      if (rows.length < batch.length) {
        const inserted = new Set(rows.map((r) => BigInt(r.ts)));
        for (const r of batch) {
          if (!inserted.delete(r.id)) throw input.reject(r, `duplicate message id ${r.id.toString().padStart(19, "0")}`);
        }
      }
      messages += batch.length;
      batch = [];
    };
    const queues = new Set<string>();
    for await (const r of input.records) {
      if (r.kind === "message") {
        batch.push(r);
        queues.add(r.queue);
        if (batch.length >= BATCH) await flush();
        continue;
      }
      await flush();
      if (aliases === 0) await tx.unsafe("SELECT pg_advisory_xact_lock($1)", [advisoryKey("aliases", schema)]);
      const [row] = await tx.unsafe(`SELECT target FROM ${s}.aliases WHERE alias = $1`, [r.alias]);
      if (row?.target === r.target) continue;
      if (row) throw input.reject(r, `alias '${r.alias}' already points to '${row.target}'`);
      await tx.unsafe(`INSERT INTO ${s}.aliases (alias, target) VALUES ($1, $2)`, [r.alias, r.target]);
      aliases++;
    }
    await flush();
    await tx.unsafe(`UPDATE ${s}.meta SET last_ts = $1 WHERE singleton AND last_ts < $1`, [String(input.lastTs)]);
    if (aliases > 0) {
      await tx.unsafe(`UPDATE ${s}.meta SET alias_version = GREATEST(alias_version + 1, $1) WHERE singleton`, [wallClockNs()]);
    }
    const wake = queues.size > 64 ? ["*"] : [...queues];
    if (wake.length) await tx.unsafe("SELECT pg_notify($1, w) FROM unnest($2::text[]) AS w", [channel, wake]);
    return { messages, aliases };
  });
}
