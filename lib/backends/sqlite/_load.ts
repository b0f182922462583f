/**
 * Loading a dump into SQLite: every record in one write transaction, so a
 * load that fails anywhere (bad input deep in the stream, a duplicate id)
 * leaves the file exactly as it was. The transaction stays open while the
 * records stream in; nothing else may use this connection meanwhile.
 * @module
 */
import type { LoadInput, LoadResult } from "../../core/types.ts";
import { wallClockNs } from "../../time/timestamp.ts";
import { notifyActivity } from "./local.ts";
import { withBusyRetry } from "./schema.ts";
import type { SqliteStore } from "./store.ts";

/** Apply `input` to `store` in one transaction; see {@link LoadInput}. */
export async function loadIntoSqlite(store: SqliteStore, input: LoadInput): Promise<LoadResult> {
  const db = store.db;
  const insert = db.prepare("INSERT INTO messages (queue, body, ts) VALUES (?, ?, ?)");
  const exists = db.prepare("SELECT 1 AS hit FROM messages WHERE ts = ?");
  const aliasOf = db.prepare("SELECT target FROM queue_aliases WHERE alias = ?");
  const addAlias = db.prepare("INSERT INTO queue_aliases (alias, target) VALUES (?, ?)");
  const queues = new Set<string>();
  let messages = 0;
  let aliases = 0;
  withBusyRetry(() => db.run("BEGIN IMMEDIATE"), store.config.busyTimeout);
  try {
    for await (const r of input.records) {
      if (r.kind === "message") {
        // The UNIQUE index on ts refuses a duplicate; asking first keeps the error one of ours.
        if (exists.get(r.id)) throw input.reject(r, `duplicate message id ${r.id.toString().padStart(19, "0")}`);
        insert.run(r.queue, r.body, r.id);
        messages++;
        if (queues.size < 64) queues.add(r.queue);
      } else {
        const current = (aliasOf.get(r.alias) as { target: string } | null)?.target;
        if (current === r.target) continue;
        if (current !== undefined) throw input.reject(r, `alias '${r.alias}' already points to '${current}'`);
        addAlias.run(r.alias, r.target);
        aliases++;
      }
    }
    db.prepare("UPDATE meta SET value = ? WHERE key = 'last_ts' AND value < ?").run(input.lastTs, input.lastTs);
    if (aliases > 0) db.prepare("UPDATE meta SET value = ? WHERE key = 'alias_version'").run(wallClockNs());
    db.run("COMMIT");
  } catch (error) {
    if (db.inTransaction) db.run("ROLLBACK");
    throw error;
  } finally {
    insert.finalize();
    exists.finalize();
    aliasOf.finalize();
    addAlias.finalize();
  }
  for (const q of queues) notifyActivity(store.path, q);
  return { messages, aliases };
}
