/**
 * The CLI baseline of `bench/cli.ts`: a program that does only the durable
 * work of one `broker write` — open the database, set the same connection
 * PRAGMAs, insert one row in BEGIN IMMEDIATE … COMMIT, close. It is compiled
 * with the arguments of `npm run build` exactly like the CLI, so the difference
 * between the two is what our CLI adds (imports, parsing, config, checks).
 *
 *     raw-insert-fixture <db-file> [queue] [body]
 *
 * The file must already hold the SimpleBroker schema (the bench creates it).
 * The id is MAX(ts)+1, allocated inside the write transaction.
 * @module
 */
import { Database } from "bun:sqlite";

const [path, queue = "q", body = "hello"] = process.argv.slice(2);
if (!path) {
  process.stderr.write("usage: raw-insert-fixture <db-file> [queue] [body]\n");
  process.exit(1);
}
const sync = (process.env.BROKER_SYNC_MODE ?? "FULL").toUpperCase();
const db = new Database(path, { readwrite: true, create: false, safeIntegers: true, strict: true });
db.run("PRAGMA busy_timeout = 5000");
db.run(`PRAGMA synchronous = ${sync === "NORMAL" || sync === "OFF" ? sync : "FULL"}`);
db.run("BEGIN IMMEDIATE");
db.run("INSERT INTO messages (queue, body, ts) VALUES (?, ?, (SELECT COALESCE(MAX(ts), 0) + 1 FROM messages))", [queue, body]);
db.run("COMMIT");
db.close();
