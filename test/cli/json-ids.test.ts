// BROKER_JSON_IDS=string: every id in JSON output is a quoted 19-digit string, so JavaScript's
// JSON.parse keeps it exact and it can be fed back to -m; the default stays 3.6.1's bare integer.
// Also write -t / --json and --cleanup's companion files, through the real CLI.
import { expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

const STRING = { BROKER_JSON_IDS: "string" };

test("ids parsed from JSON output with JSON.parse select the message again with -m", async () => {
  using d = tempDir();
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: d.path, env });
  const written = await cli(["write", "q", "first", "--json"], STRING);
  expect(written.exitCode).toBe(0);
  const id = (JSON.parse(written.stdout) as { timestamp: unknown }).timestamp;
  expect(typeof id).toBe("string");
  expect(id).toMatch(/^\d{19}$/);
  const second = (await cli(["write", "q", "second", "-t"])).stdout.trim();
  expect(second).toMatch(/^\d{19}$/);

  const peeked = (await cli(["peek", "q", "--all", "--json"], STRING)).stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(peeked).toEqual([
    { message: "first", timestamp: id },
    { message: "second", timestamp: second },
  ]);
  const status = JSON.parse((await cli(["--status", "--json"], STRING)).stdout) as { last_timestamp: unknown };
  expect(status.last_timestamp).toBe(second);

  const read = await cli(["read", "q", "-m", String(peeked[1].timestamp), "--json"], STRING);
  expect(read.exitCode).toBe(0);
  expect(JSON.parse(read.stdout)).toEqual({ message: "second", timestamp: second });
  const moved = await cli(["move", "q", "done", "-m", id as string, "--json"], STRING);
  expect(JSON.parse(moved.stdout)).toEqual({ message: "first", timestamp: id });
  expect((await cli(["peek", "done", "-t"])).stdout).toBe(`${id}\tfirst\n`);
});

test("without BROKER_JSON_IDS (or with number) ids stay bare integers; another value is a config error", async () => {
  using d = tempDir();
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: d.path, env });
  const id = (await cli(["write", "q", "x", "-t"])).stdout.trim();
  for (const env of [{}, { BROKER_JSON_IDS: "number" }] as Record<string, string>[]) {
    const out = (await cli(["peek", "q", "--json"], env)).stdout;
    expect(out).toBe(`{"message": "x", "timestamp": ${id}}\n`);
    expect((await cli(["write", "q", "y", "--json"], env)).stdout).toMatch(/^\{"timestamp": \d{19}\}\n$/);
  }
  const bad = await cli(["peek", "q", "--json"], { BROKER_JSON_IDS: "bigint" });
  expect(bad.exitCode).toBe(1);
  expect(bad.stdout).toBe("");
  expect(bad.stderr).toContain("BROKER_JSON_IDS");
});

test("write -t prints the id with '-' (stdin) and after --; `write q -t` alone writes '-t' as 3.6.1 and 7.3.2 do", async () => {
  using d = tempDir();
  const cli = (args: string[], stdin?: string) => runCli(args, { cwd: d.path, stdin });
  const ids = [
    (await cli(["write", "q", "-", "-t"], "from dash")).stdout,
    (await cli(["write", "q", "-t"], "piped")).stdout, // no id printed: the message is "-t"
    (await cli(["write", "q", "-t", "--", "-dash"])).stdout,
  ].map((s) => s.trim());
  const lines = (await cli(["peek", "q", "--all", "-t"])).stdout.trim().split("\n");
  expect(ids[1]).toBe("");
  expect(lines).toEqual([`${ids[0]}\tfrom dash`, expect.stringMatching(/^\d{19}\t-t$/), `${ids[2]}\t-dash`]);
});

test("--cleanup leaves no file behind: the database, its -wal/-shm/-journal and our lock files", async () => {
  using d = tempDir();
  expect((await runCli(["write", "q", "x"], { cwd: d.path })).exitCode).toBe(0);
  for (const name of [".broker.db-wal", ".broker.db-shm", ".broker.db-journal"]) writeFileSync(join(d.path, name), "");
  const r = await runCli(["--cleanup"], { cwd: d.path });
  expect(r.exitCode).toBe(0);
  expect(readdirSync(d.path)).toEqual([]);
});
