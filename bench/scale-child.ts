/**
 * One whole-queue walk through the library (or through raw bun:sqlite, the
 * baseline), run as its own process by `bench/scale.ts` so that its time and
 * maximum RSS are its own. Prints the number of messages it walked to stderr.
 *
 *     bun bench/scale-child.ts <target> <op>
 *
 * `target` is a database file, or `env` for the target the BROKER_BACKEND* variables name; `op` is one of
 * peekGenerator, peekMany, readGenerator, moveGenerator (queue q, to q2),
 * raw-peek, raw-claim (SQLite only: the smallest program doing the same work).
 * @module
 */
import { Database } from "bun:sqlite";
import { writeSync } from "node:fs";
import { openBroker } from "../index.ts";

const [target, op] = process.argv.slice(2);
if (!target || !op) {
  process.stderr.write("usage: bun bench/scale-child.ts <target> <op>\n");
  process.exit(1);
}

let n = 0;
if (op === "raw-peek" || op === "raw-claim") n = raw(target, op);
else {
  await using broker = await openBroker(target === "env" ? undefined : target);
  const q = broker.queue("q");
  if (op === "peekGenerator") for await (const _ of q.peekGenerator()) n++;
  else if (op === "readGenerator") for await (const _ of q.readGenerator()) n++;
  else if (op === "moveGenerator") for await (const _ of q.moveGenerator("q2")) n++;
  else if (op === "peekMany") {
    // Page by id: each page starts after the last id of the one before.
    let after: bigint | undefined;
    for (;;) {
      const page = await q.peekMany(1000, after === undefined ? {} : { after });
      n += page.length;
      if (page.length < 1000) break;
      after = page[page.length - 1]!.ts;
    }
  } else throw new Error(`unknown op ${op}`);
}
process.stderr.write(`${n}\n`);

/** The baseline: a keyset peek loop, or a claim-one-commit-print loop, on bun:sqlite alone. */
function raw(path: string, kind: "raw-peek" | "raw-claim"): number {
  const db = new Database(path, { safeIntegers: true, strict: true });
  db.run("PRAGMA busy_timeout = 5000");
  db.run(`PRAGMA synchronous = ${process.env.BROKER_SYNC_MODE ?? "FULL"}`);
  let count = 0;
  if (kind === "raw-peek") {
    const page = db.query("SELECT body, ts FROM messages WHERE queue = ? AND claimed = 0 AND ts > ? ORDER BY ts LIMIT 1000");
    let text = "";
    for (let after = -1n; ; ) {
      const rows = page.all("q", after) as { body: string; ts: bigint }[];
      for (const r of rows) text += `${r.body}\n`;
      writeSync(1, text);
      text = "";
      count += rows.length;
      if (rows.length < 1000) break;
      after = rows[rows.length - 1]!.ts;
    }
  } else {
    const claim = db.query(
      "UPDATE messages SET claimed = 1 WHERE id IN (SELECT id FROM messages WHERE queue = ? AND claimed = 0 ORDER BY id LIMIT 1) RETURNING body",
    );
    const begin = db.query("BEGIN IMMEDIATE");
    const commit = db.query("COMMIT");
    for (;;) {
      begin.run();
      const row = claim.get("q") as { body: string } | null;
      commit.run();
      if (!row) break;
      writeSync(1, `${row.body}\n`);
      count++;
    }
  }
  db.close();
  return count;
}
