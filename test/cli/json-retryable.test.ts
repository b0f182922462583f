// `--json` errors say honestly whether the same command may succeed later (docs/backend-contract.md#errors-and-exit-codes):
// `"retryable": true` for an unreachable server, a connect timeout, a lock held too long, a serialization
// failure or deadlock; `false` for bad input and for failures a retry cannot fix (no such database).
// The text form of every error is unchanged.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { SQL } from "bun";
import { join } from "node:path";
import { parseTarget, wrapError } from "../../lib/backends/postgres/connection.ts";
import { CLI, childEnv, runCli, tempDir } from "../helpers.ts";
import { postgresUrl } from "../services.ts";

const PG = await postgresUrl();

/** Run the CLI and parse its one-line JSON error. */
async function jsonError(args: string[], env: Record<string, string> = {}, cwd?: string) {
  using dir = tempDir();
  const r = await runCli(args, { cwd: cwd ?? dir.path, env });
  expect(r.exitCode).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr.split("\n")).toHaveLength(2); // one line and its newline
  return JSON.parse(r.stderr) as { error: string; message: string; retryable: boolean };
}

describe("retryable: true", () => {
  test("PostgreSQL refuses the connection (closed port)", async () => {
    const env = { BROKER_BACKEND: "postgres", BROKER_BACKEND_TARGET: "postgres://postgres@127.0.0.1:1/test" };
    for (const args of [
      ["write", "q", "x", "--json"],
      ["read", "q", "--json"],
    ]) {
      const e = await jsonError(args, env);
      expect(e.message).toContain("Cannot connect to PostgreSQL at postgres://postgres@127.0.0.1:1/test");
      expect(e.retryable).toBe(true);
    }
    // The text form is unchanged: one line, no JSON.
    using dir = tempDir();
    const text = await runCli(["read", "q"], { cwd: dir.path, env });
    expect(text.stderr).toMatch(/^simplebroker: error: Cannot connect to PostgreSQL at .*\n$/);
  });

  test("Redis does not answer (closed port, connect timeout)", async () => {
    const env = {
      BROKER_BACKEND: "redis",
      BROKER_BACKEND_TARGET: "redis://127.0.0.1:1/0",
      BROKER_BACKEND_CONNECT_TIMEOUT: "1",
    };
    const e = await jsonError(["read", "q", "--json"], env);
    expect(e.message).toContain("Cannot connect to Redis at redis://127.0.0.1:1/0");
    expect(e.retryable).toBe(true);
  });

  test("SQLite: another process holds the write lock longer than BROKER_BUSY_TIMEOUT", async () => {
    using dir = tempDir();
    const db = new Database(join(dir.path, ".broker.db"));
    try {
      db.run("BEGIN EXCLUSIVE");
      const proc = Bun.spawn([process.execPath, CLI, "write", "q", "x", "--json"], {
        cwd: dir.path,
        env: childEnv({ BROKER_BUSY_TIMEOUT: "100" }),
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      expect(code).toBe(1);
      const e = JSON.parse(stderr);
      expect(e.message).toContain("database is locked");
      expect(e.retryable).toBe(true);
    } finally {
      db.run("ROLLBACK");
      db.close();
    }
  });

  test("PostgreSQL serialization failure, deadlock, lock not available, statement timeout (real server errors)", async () => {
    const sql = new SQL(PG, { max: 1 });
    const info = parseTarget(PG);
    try {
      for (const state of ["40001", "40P01", "55P03", "57014"]) {
        const raw = await sql.unsafe(`DO $$ BEGIN RAISE EXCEPTION 'boom' USING ERRCODE = '${state}'; END $$`).catch((e) => e);
        const wrapped = wrapError(raw, info) as Error & { retryable: boolean };
        expect({ state, retryable: wrapped.retryable }).toEqual({ state, retryable: true });
      }
      const bad = await sql.unsafe("SELECT 'x'::int").catch((e) => e);
      expect((wrapError(bad, info) as Error & { retryable: boolean }).retryable).toBe(false);
    } finally {
      await sql.close();
    }
  });
});

describe("retryable: false", () => {
  test("a bad queue name", async () => {
    const e = await jsonError(["read", "bad name!", "--json"]);
    expect(e.message).toContain("Invalid queue name");
    expect(e.retryable).toBe(false);
  });

  test("a bad queue name on an unreachable PostgreSQL is still bad input", async () => {
    const env = { BROKER_BACKEND: "postgres", BROKER_BACKEND_TARGET: "postgres://postgres@127.0.0.1:1/test" };
    const e = await jsonError(["read", "bad name!", "--json"], env);
    expect(e.message).toContain("Invalid queue name");
    expect(e.retryable).toBe(false);
  });

  test("a PostgreSQL database that does not exist", async () => {
    const target = PG.replace(/\/[^/?]*(\?|$)/, "/simplebroker_no_such_db$1");
    const e = await jsonError(["read", "q", "--json"], { BROKER_BACKEND: "postgres", BROKER_BACKEND_TARGET: target });
    expect(e.message).toContain("does not exist");
    expect(e.retryable).toBe(false);
  });
});
