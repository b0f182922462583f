// Guards on-disk interoperability (issue 3, docs/on-disk-format.md#python-peers): a database written by
// the original SimpleBroker 3.6.1 must print exactly what the original printed
// (list --stats --json, peek --all --json, alias list, --status --json, db_size
// included), and writing to it through our CLI must leave the schema, the
// magic and the schema version untouched while issuing 19-digit ids above the
// old high-water mark.
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, copyFileSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

const REF = resolve(import.meta.dir, "../fixtures/reference");
const recorded = (name: string) => readFileSync(join(REF, `reference-3.6.1.${name}`), "utf8");
const PEEK_ORDER = ["jobs", "events.audit", "unicode", "jobs.done", "big"];

/** A private copy of the reference database as `<tmp>/.broker.db`. */
function copyReference(dir: string): string {
  const db = join(dir, ".broker.db");
  copyFileSync(join(REF, "reference-3.6.1.broker.db"), db);
  chmodSync(db, 0o600);
  return db;
}

interface SchemaRow {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

function inspect(path: string): { schema: SchemaRow[]; meta: Record<string, string>; integrity: string } {
  const db = new Database(path, { readonly: true, safeIntegers: true });
  try {
    const schema = db.query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").all() as SchemaRow[];
    const meta: Record<string, string> = {};
    for (const row of db.query("SELECT key, value FROM meta").all() as { key: string; value: unknown }[]) {
      meta[row.key] = String(row.value);
    }
    const { integrity_check } = db.query("PRAGMA integrity_check").get() as { integrity_check: string };
    return { schema, meta, integrity: integrity_check };
  } finally {
    db.close();
  }
}

test.concurrent("prints what 3.6.1 printed for its own database, db_size included", async () => {
  using d = tempDir();
  copyReference(d.path);
  const opts = { cwd: d.path };

  expect(await runCli(["list", "--stats", "--json"], opts)).toEqual({
    stdout: recorded("list-stats.ndjson"),
    stderr: "",
    exitCode: 0,
  });

  let peeked = "";
  for (const q of PEEK_ORDER) {
    const r = await runCli(["peek", q, "--all", "--json"], opts);
    expect({ q, stderr: r.stderr, exitCode: r.exitCode }).toEqual({ q, stderr: "", exitCode: 0 });
    peeked += r.stdout;
  }
  expect(peeked).toBe(recorded("peek-all.ndjson"));

  expect(await runCli(["alias", "list"], opts)).toEqual({ stdout: recorded("alias-list.txt"), stderr: "", exitCode: 0 });
  expect(await runCli(["--status", "--json"], opts)).toEqual({ stdout: recorded("status.json"), stderr: "", exitCode: 0 });
}, 30_000);

test.concurrent("writing through our CLI keeps the 3.6.1 schema, magic and version", async () => {
  using d = tempDir();
  const path = copyReference(d.path);
  const before = inspect(path);
  expect(before.meta.schema_version).toBe("4");
  expect(before.meta.magic).toBe("simplebroker-v1");
  const oldLast = BigInt(before.meta.last_ts!);
  const opts = { cwd: d.path };

  expect(await runCli(["write", "jobs", "from bun"], opts)).toEqual({ stdout: "", stderr: "", exitCode: 0 });
  expect(await runCli(["write", "fresh", "new queue"], opts)).toEqual({ stdout: "", stderr: "", exitCode: 0 });
  expect(await runCli(["read", "jobs"], opts)).toEqual({ stdout: "second job\n", stderr: "", exitCode: 0 });
  expect(await runCli(["read", "@inbox"], opts)).toEqual({ stdout: "third job\n", stderr: "", exitCode: 0 });
  const fresh = await runCli(["peek", "jobs", "--all", "-t"], opts);
  const freshQueue = await runCli(["read", "fresh", "-t"], opts);
  expect(await runCli(["broadcast", "-p", "jobs*", "hello"], opts)).toEqual({ stdout: "", stderr: "", exitCode: 0 });

  const ids = [fresh.stdout, freshQueue.stdout]
    .join("")
    .trimEnd()
    .split("\n")
    .map((line) => line.split("\t")[0]!);
  expect(fresh.stdout).toMatch(/^\d{19}\tfrom bun\n$/);
  expect(freshQueue.stdout).toMatch(/^\d{19}\tnew queue\n$/);
  for (const id of ids) {
    expect(id).toMatch(/^\d{19}$/);
    expect(BigInt(id)).toBeGreaterThan(oldLast);
  }
  expect(BigInt(ids[1]!)).toBeGreaterThan(BigInt(ids[0]!));

  const after = inspect(path);
  expect(after.schema).toEqual(before.schema);
  expect(after.meta.schema_version).toBe("4");
  expect(after.meta.magic).toBe("simplebroker-v1");
  expect(after.meta.alias_version).toBe(before.meta.alias_version!);
  expect(BigInt(after.meta.last_ts!)).toBeGreaterThan(BigInt(ids[1]!));
  expect(Object.keys(after.meta).sort()).toEqual(["alias_version", "last_ts", "magic", "schema_version"]);
  expect(after.integrity).toBe("ok");

  // Everything the original wrote is still there and still ordered.
  expect(await runCli(["list", "--stats"], opts)).toEqual({
    stdout: [
      "big: 1",
      "claimed-only: 0 (1 total, 1 claimed)",
      "events.audit: 1",
      "fresh: 0 (1 total, 1 claimed)",
      "jobs: 2 (5 total, 3 claimed)",
      "jobs.done: 2",
      "unicode: 1",
      "",
      "Total claimed messages: 5/12",
      "",
    ].join("\n"),
    stderr: "",
    exitCode: 0,
  });
  expect(await runCli(["peek", "jobs", "--all"], opts)).toEqual({ stdout: "from bun\nhello\n", stderr: "", exitCode: 0 });
  expect(await runCli(["peek", "jobs.done", "--all"], opts)).toEqual({ stdout: "old\nhello\n", stderr: "", exitCode: 0 });
}, 30_000);
