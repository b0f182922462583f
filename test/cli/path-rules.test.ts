// Every command, `init` and the global actions go through the same path rules
// as `write` (issue 19): a dangling `.broker.db` symlink that leads out of the
// working folder, `-d ../..` and `-f ../../…` are refused and create nothing;
// `--status`, `--vacuum` and the read-only commands (peek, list, exists,
// stats) never create a database; folders we create for the database are
// 0700 (docs/paths.md).
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

const refused = (message: string) => ({ stdout: "", stderr: `simplebroker: error: ${message}\n`, exitCode: 1 });

test.concurrent("a dangling .broker.db symlink out of the folder: write, init, --status and the rest refuse alike", async () => {
  using d = tempDir();
  const work = join(d.path, "work");
  const outside = join(d.path, "outside");
  mkdirSync(work);
  mkdirSync(outside);
  symlinkSync(join(outside, "x.db"), join(work, ".broker.db"));
  const commands = [
    ["write", "q", "m"],
    ["init"],
    ["--status"],
    ["--vacuum"],
    ["--cleanup"],
    ["peek", "q"],
    ["list"],
    ["read", "q"],
  ];
  for (const args of commands) {
    const r = await runCli(args, { cwd: work });
    expect({ args, ...r }).toEqual({ args, ...refused("Database file must be within the working directory") });
  }
  expect(readdirSync(outside)).toEqual([]);
}, 60_000);

test.concurrent("-d ../.. and -f ../../../deep/… with --status, --vacuum or a command: refused, nothing created", async () => {
  using d = tempDir();
  const cwd = join(d.path, "a/b/c");
  mkdirSync(cwd, { recursive: true });
  for (const globals of [["--status"], ["--vacuum"], ["--cleanup"], []]) {
    const cmd = globals.length ? [] : ["peek", "q"];
    expect(await runCli(["-d", "../..", ...globals, ...cmd], { cwd })).toEqual(
      refused("Directory argument (-d/--dir) must not contain parent directory references: ../.."),
    );
    expect(await runCli(["-f", "../../../deep/x/y/z.db", ...globals, ...cmd], { cwd })).toEqual(
      refused("Database filename must not contain parent directory references: ../../../deep/x/y/z.db"),
    );
  }
  expect(existsSync(join(d.path, "a/.broker.db"))).toBe(false);
  expect(existsSync(join(d.path, "deep"))).toBe(false);
  expect(readdirSync(cwd)).toEqual([]);
}, 60_000);

test.concurrent("--status, --vacuum, peek, list, exists and stats answer for a missing database without creating it", async () => {
  using d = tempDir();
  const ok = (stdout: string, exitCode = 0) => ({ stdout, stderr: "", exitCode });
  const run = (args: string[]) => runCli(args, { cwd: d.path });
  expect(await run(["--status"])).toEqual(ok("total_messages: 0\nlast_timestamp: 0\ndb_size: 0\n"));
  expect(await run(["--status", "--json"])).toEqual(ok('{"total_messages": 0, "last_timestamp": 0, "db_size": 0}\n'));
  expect(await run(["--vacuum"])).toEqual({
    stdout: "",
    stderr: `Database not found: ${join(d.path, ".broker.db")}\n`,
    exitCode: 0,
  });
  expect(await run(["peek", "q"])).toEqual(ok("", 2));
  expect(await run(["peek", "q", "--all", "--json"])).toEqual(ok("", 2));
  expect(await run(["list", "--stats"])).toEqual(ok(""));
  expect(await run(["exists", "q", "--json"])).toEqual(ok('{"queue": "q", "exists": false}\n', 2));
  expect(await run(["stats", "q"])).toEqual(ok("q: 0\n"));
  expect(await run(["-f", "sub/other.db", "list"])).toEqual(ok(""));
  expect(readdirSync(d.path)).toEqual([]);
}, 60_000);

test.concurrent("folders created for the database are 0700, the database 0600", async () => {
  using d = tempDir();
  const r = await runCli(["write", "q", "m"], { cwd: d.path, env: { BROKER_DEFAULT_DB_NAME: "sub/x.db" } });
  expect(r).toEqual({ stdout: "", stderr: "", exitCode: 0 });
  expect(statSync(join(d.path, "sub")).mode & 0o777).toBe(0o700);
  expect(statSync(join(d.path, "sub/x.db")).mode & 0o777).toBe(0o600);
  expect((await runCli(["-f", "made/y.db", "write", "q", "m"], { cwd: d.path })).exitCode).toBe(0);
  expect(statSync(join(d.path, "made")).mode & 0o777).toBe(0o700);
}, 60_000);
