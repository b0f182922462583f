/**
 * The baseline of `bench/drain.ts`: a plain bun:sqlite exactly-once drain of
 * one queue — claim one message in BEGIN IMMEDIATE … COMMIT, print it,
 * repeat — with the connection PRAGMAs the CLI sets. Compiled like the CLI,
 * so the difference is what `broker read --all` adds.
 *
 *     drain-raw-fixture <db-file> [queue]
 * @module
 */
import { Database } from "bun:sqlite";

const [path, queue = "q"] = process.argv.slice(2);
if (!path) {
  process.stderr.write("usage: drain-raw-fixture <db-file> [queue]\n");
  process.exit(1);
}
const sync = (process.env.BROKER_SYNC_MODE ?? "FULL").toUpperCase();
const db = new Database(path, { readwrite: true, create: false, safeIntegers: true, strict: true });
db.run("PRAGMA busy_timeout = 5000");
db.run(`PRAGMA synchronous = ${sync === "NORMAL" || sync === "OFF" ? sync : "FULL"}`);
const begin = db.prepare("BEGIN IMMEDIATE");
const commit = db.prepare("COMMIT");
const claim = db.prepare(
  "UPDATE messages SET claimed = 1 WHERE id IN (SELECT id FROM messages WHERE queue = ? AND claimed = 0 ORDER BY id LIMIT 1) RETURNING body",
);
// Inside a function: the build (as `npm run build`) does not allow top-level await.
async function main(): Promise<void> {
  for (;;) {
    begin.run();
    const row = claim.get(queue) as { body: string } | null;
    commit.run();
    if (!row) break;
    await Bun.write(Bun.stdout, `${row.body}\n`);
  }
  db.close();
}
void main();
