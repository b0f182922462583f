/**
 * Same file, both ways (mission point 2): a Python process speaking
 * SimpleBroker 3.6.1's SQLite protocol (test/fixtures/py-peer-fixture.py) and
 * Bun processes (the library and the real CLI) share one .broker.db at the
 * same time. Python creates the file; both write and both consume at once;
 * every message is delivered exactly once, each writer's messages in order,
 * and Python's compare-and-swap id allocation never fails against our ids.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runCli, tempDir, childEnv } from "../helpers.ts";

const PY = resolve(import.meta.dir, "../fixtures/py-peer-fixture.py");
const WRITER = resolve(import.meta.dir, "../fixtures/writer-fixture.ts");
const READER = resolve(import.meta.dir, "../fixtures/reader-fixture.ts");
const PER_WRITER = 400;

function spawn(cmd: string[], cwd: string) {
  const env = childEnv({ BROKER_AUTO_VACUUM: "0" }); // keep claimed rows, so the file can be audited afterwards
  const p = Bun.spawn(cmd, { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]).then(([stdout, stderr, code]) => ({
    cmd: cmd.slice(1, 3).join(" "),
    stdout,
    stderr,
    code,
  }));
}

describe("a Python 3.6.1-protocol peer and Bun on one file", () => {
  test("python creates; python + bun write and consume concurrently; exactly once, in order", async () => {
    using dir = tempDir("sb-py-");
    const db = join(dir.path, ".broker.db");
    const init = Bun.spawnSync(["python3", PY, "init", db]);
    expect(init.exitCode).toBe(0);
    // Our CLI accepts the Python-made file and they agree on an empty queue.
    expect(await runCli(["list"], { cwd: dir.path })).toEqual({ stdout: "", stderr: "", exitCode: 0 });

    const done = join(dir.path, "writers-done");
    const readers = [
      spawn(["python3", PY, "read", db, "q", done], dir.path),
      spawn(["python3", PY, "read", db, "q", done], dir.path),
      spawn([process.execPath, READER, dir.path, "lib"], dir.path),
      spawn([process.execPath, READER, dir.path, "cli"], dir.path),
    ];
    const writers = await Promise.all([
      spawn(["python3", PY, "write", db, "q", "py1", String(PER_WRITER)], dir.path),
      spawn(["python3", PY, "write", db, "q", "py2", String(PER_WRITER)], dir.path),
      spawn([process.execPath, WRITER, db, "bun1", String(PER_WRITER)], dir.path),
      spawn([process.execPath, WRITER, db, "bun2", String(PER_WRITER)], dir.path),
    ]);
    for (const w of writers) expect({ cmd: w.cmd, code: w.code, stderr: w.stderr }).toEqual({ cmd: w.cmd, code: 0, stderr: "" });
    writeFileSync(done, "");
    const results = await Promise.all(readers);
    for (const r of results) expect({ cmd: r.cmd, code: r.code, stderr: r.stderr }).toEqual({ cmd: r.cmd, code: 0, stderr: "" });

    const received = results.flatMap((r) => r.stdout.split("\n").filter(Boolean));
    const bodies = received.map((l) => l.split("\t")[1]!);
    expect(bodies.length).toBe(4 * PER_WRITER);
    expect(new Set(bodies).size).toBe(4 * PER_WRITER);
    // Python and Bun both took a share of the work.
    expect(results.every((r) => r.stdout.length > 0) || results.filter((r) => r.stdout.length > 0).length >= 2).toBe(true);

    // Ids are unique, and each writer's messages have increasing ids in its write order.
    const conn = new Database(db, { readonly: true, safeIntegers: true });
    try {
      const rows = conn.query("SELECT ts, body, claimed FROM messages ORDER BY id").all() as {
        ts: bigint;
        body: string;
        claimed: bigint;
      }[];
      expect(rows.length).toBe(4 * PER_WRITER);
      expect(rows.every((r) => r.claimed === 1n)).toBe(true);
      expect(new Set(rows.map((r) => r.ts)).size).toBe(rows.length);
      for (const tag of ["py1", "py2", "bun1", "bun2"]) {
        const mine = rows.filter((r) => r.body.startsWith(`${tag}:`)).sort((a, b) => a.body.localeCompare(b.body));
        expect(mine.length).toBe(PER_WRITER);
        for (let i = 1; i < mine.length; i++) expect(mine[i]!.ts > mine[i - 1]!.ts).toBe(true);
      }
      const last = conn.query("SELECT value FROM meta WHERE key = 'last_ts'").get() as { value: bigint };
      expect(last.value).toBe(rows.reduce((m, r) => (r.ts > m ? r.ts : m), 0n));
      const meta = conn.query("SELECT key, value FROM meta ORDER BY key").all() as { key: string; value: unknown }[];
      expect(meta.map((m) => m.key)).toEqual(["alias_version", "last_ts", "magic", "schema_version"]);
      expect(meta.find((m) => m.key === "schema_version")!.value).toBe(4n);
    } finally {
      conn.close();
    }

    // Python reads what Bun wrote and Bun reads what Python wrote, after the fact too.
    expect((await runCli(["write", "q", "from bun"], { cwd: dir.path })).exitCode).toBe(0);
    Bun.spawnSync(["python3", PY, "write", db, "q", "py3", "1"]);
    const py = Bun.spawnSync(["python3", PY, "read", db, "q", done]);
    expect(
      py.stdout
        .toString()
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("\t")[1]),
    ).toEqual(["from bun", "py3:00000"]);
  }, 120_000);

  test("bun creates; the Python peer's set-up statements are no-ops on it and both read each other", async () => {
    using dir = tempDir("sb-py-");
    const db = join(dir.path, ".broker.db");
    expect((await runCli(["write", "q", "from bun"], { cwd: dir.path })).exitCode).toBe(0);
    const before = new Database(db, { readonly: true });
    const schema = before.query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").all();
    before.close();
    expect(Bun.spawnSync(["python3", PY, "init", db]).exitCode).toBe(0);
    expect(Bun.spawnSync(["python3", PY, "write", db, "q", "py", "2"]).exitCode).toBe(0);
    const after = new Database(db, { readonly: true });
    expect(after.query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").all()).toEqual(schema);
    expect(after.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    after.close();
    expect(await runCli(["read", "q", "--all"], { cwd: dir.path })).toEqual({
      stdout: "from bun\npy:00000\npy:00001\n",
      stderr: "",
      exitCode: 0,
    });
  }, 60_000);
});
