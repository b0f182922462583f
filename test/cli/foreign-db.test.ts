// A SQLite file we did not create is never modified (issue 19): another
// application's `messages` table with its own index, or a file whose only
// table is a foreign `meta(key, value)`, is refused with one line and exit 1
// by every command and by the library, and stays byte-identical, with no
// `-wal` appearing. Empty and missing files are still created as ours, and an
// older SimpleBroker file (schema v1, no magic) is still migrated.
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "../../index.ts";
import { runCli, tempDir } from "../helpers.ts";

const sha256 = (path: string) => new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");

const FOREIGN: Array<[string, string[]]> = [
  [
    "another application's messages table and index",
    [
      "CREATE TABLE messages (id INTEGER PRIMARY KEY, sender TEXT, text TEXT)",
      "CREATE INDEX idx_queue_ts ON messages(sender)",
      "INSERT INTO messages (sender, text) VALUES ('ada', 'hello')",
    ],
  ],
  [
    "only a foreign meta(key, value) table",
    ["CREATE TABLE meta (key TEXT, value TEXT)", "INSERT INTO meta VALUES ('colour', 'blue')"],
  ],
  [
    "SimpleBroker's column names plus a table of its own",
    [
      "CREATE TABLE messages (id INTEGER PRIMARY KEY, queue TEXT, body TEXT, ts INTEGER)",
      "CREATE TABLE users (id INTEGER PRIMARY KEY)",
    ],
  ],
];

function makeDb(path: string, statements: string[]): void {
  const db = new Database(path, { create: true });
  for (const sql of statements) db.run(sql);
  db.close();
}

for (const [label, statements] of FOREIGN) {
  test.concurrent(`${label}: every command refuses with one line; the file is byte-identical, no -wal`, async () => {
    using d = tempDir();
    const db = join(d.path, "app.db");
    makeDb(db, statements);
    const before = sha256(db);
    for (const args of [
      ["peek", "q"],
      ["read", "q"],
      ["write", "q", "x"],
      ["list"],
      ["stats", "q"],
      ["move", "q", "r"],
      ["broadcast", "x"],
      ["alias", "add", "a", "b"],
    ]) {
      const r = await runCli(["-f", "app.db", ...args], { cwd: d.path });
      expect({ args, exitCode: r.exitCode, stdout: r.stdout }).toEqual({ args, exitCode: 1, stdout: "" });
      expect(r.stderr).toBe(`simplebroker: error: Database is missing SimpleBroker metadata: ${db}\n`);
    }
    for (const globals of [["--status"], ["--vacuum"], ["--cleanup"]]) {
      const r = await runCli(["-f", "app.db", ...globals], { cwd: d.path });
      expect({ globals, exitCode: r.exitCode }).toEqual({ globals, exitCode: 1 });
      expect(r.stderr).toMatch(/^simplebroker: error: Database is missing SimpleBroker metadata: .*app\.db\n$/);
    }
    expect(sha256(db)).toBe(before);
    expect(existsSync(`${db}-wal`)).toBe(false);
    expect(existsSync(`${db}-shm`)).toBe(false);
  }, 60_000);

  test(`${label}: the library refuses it too and leaves it unchanged`, () => {
    using d = tempDir();
    const db = join(d.path, "app.db");
    makeDb(db, statements);
    const before = sha256(db);
    for (const persistent of [false, true]) {
      const q = new Queue("q", { dbPath: db, persistent });
      expect(() => q.write("x")).toThrow(/missing SimpleBroker metadata/);
      expect(() => q.peekOne()).toThrow(/missing SimpleBroker metadata/);
      q.close();
    }
    expect(sha256(db)).toBe(before);
    expect(existsSync(`${db}-wal`)).toBe(false);
  });
}

test.concurrent("a missing file, a zero-byte file and a SQLite file without tables become ours", async () => {
  using d = tempDir();
  writeFileSync(join(d.path, "zero.db"), "");
  makeDb(join(d.path, "bare.db"), ["PRAGMA user_version = 7"]);
  for (const name of ["missing.db", "zero.db", "bare.db"]) {
    expect(await runCli(["-f", name, "write", "q", name], { cwd: d.path })).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    expect((await runCli(["-f", name, "read", "q"], { cwd: d.path })).stdout).toBe(`${name}\n`);
  }
}, 60_000);

test.concurrent("an older SimpleBroker file (schema v1: no claimed column, no magic) is migrated to v4", async () => {
  using d = tempDir();
  const path = join(d.path, ".broker.db");
  makeDb(path, [
    "CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, body TEXT NOT NULL, ts INTEGER NOT NULL)",
    "CREATE INDEX idx_messages_queue_ts ON messages(queue, ts)",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT INTO meta VALUES ('last_ts', 1837025672140161024)",
    "INSERT INTO messages (queue, body, ts) VALUES ('q', 'old', 1837025672140161024)",
  ]);
  expect(await runCli(["read", "q"], { cwd: d.path })).toEqual({ stdout: "old\n", stderr: "", exitCode: 0 });
  const db = new Database(path, { readonly: true, safeIntegers: true });
  const meta = Object.fromEntries(
    (db.query("SELECT key, value FROM meta").all() as { key: string; value: unknown }[]).map((r) => [r.key, String(r.value)]),
  );
  db.close();
  expect(meta).toMatchObject({ magic: "simplebroker-v1", schema_version: "4" });
}, 60_000);
