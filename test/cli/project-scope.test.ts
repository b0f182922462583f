// Guards project scope through the CLI (docs/compatibility.md#project-scope,
// #target-resolution): with BROKER_PROJECT_SCOPE the nearest valid database up
// the tree is used, foreign files are skipped, a `.broker.toml` (sqlite target
// relative to the TOML file) beats a legacy database, nothing found is the
// exact 3.6.1 error, `init` creates in the current directory, `-f` beats scope.
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

const OK = { stdout: "", stderr: "", exitCode: 0 };
const SCOPE = { BROKER_PROJECT_SCOPE: "1" };
const SLOW = 30_000;

test.concurrent(
  "from a subfolder the nearest database wins; foreign databases are skipped",
  async () => {
    using d = tempDir();
    const root = d.path;
    mkdirSync(join(root, "a/b/c"), { recursive: true });
    expect(await runCli(["init"], { cwd: root, env: SCOPE })).toEqual({
      stdout: "",
      stderr: `Initialized SimpleBroker database: ${join(root, ".broker.db")}\n`,
      exitCode: 0,
    });
    expect(await runCli(["write", "q", "from-deep"], { cwd: join(root, "a/b/c"), env: SCOPE })).toEqual(OK);
    expect(readdirSync(join(root, "a/b/c"))).toEqual([]);
    expect(await runCli(["peek", "q"], { cwd: root })).toEqual({ stdout: "from-deep\n", stderr: "", exitCode: 0 });

    // Not SimpleBroker databases: a text file and a SQLite file without our magic.
    writeFileSync(join(root, "a/b/.broker.db"), "junk");
    const foreign = new Database(join(root, "a/.broker.db"), { create: true });
    foreign.run("CREATE TABLE t (x)");
    foreign.close();
    expect(await runCli(["read", "q"], { cwd: join(root, "a/b/c"), env: SCOPE })).toEqual({
      stdout: "from-deep\n",
      stderr: "",
      exitCode: 0,
    });

    // With scope, init finds the project database up the tree instead of creating one.
    expect(await runCli(["init"], { cwd: join(root, "a/b/c"), env: SCOPE })).toEqual({
      stdout: "",
      stderr: `SimpleBroker database already exists: ${join(root, ".broker.db")}\n`,
      exitCode: 0,
    });
    // A nearer valid database wins over the root one.
    mkdirSync(join(root, "a/b/c/d"));
    expect(await runCli(["init"], { cwd: join(root, "a/b/c") })).toEqual({
      stdout: "",
      stderr: `Initialized SimpleBroker database: ${join(root, "a/b/c/.broker.db")}\n`,
      exitCode: 0,
    });
    expect(await runCli(["write", "q", "nearest"], { cwd: join(root, "a/b/c/d"), env: SCOPE })).toEqual(OK);
    expect(await runCli(["peek", "q"], { cwd: join(root, "a/b/c") })).toEqual({ stdout: "nearest\n", stderr: "", exitCode: 0 });
    expect(await runCli(["peek", "q"], { cwd: root })).toEqual({ stdout: "", stderr: "", exitCode: 2 });
    // -f beats project scope.
    expect(await runCli(["-f", "own.db", "write", "q", "own"], { cwd: join(root, "a/b/c/d"), env: SCOPE })).toEqual(OK);
    expect(existsSync(join(root, "a/b/c/d/own.db"))).toBe(true);
  },
  SLOW,
);

test.concurrent(
  ".broker.toml (sqlite target relative to the TOML) beats a legacy database",
  async () => {
    using d = tempDir();
    const root = d.path;
    mkdirSync(join(root, "proj/data"), { recursive: true });
    mkdirSync(join(root, "proj/src/deep"), { recursive: true });
    expect(await runCli(["init"], { cwd: join(root, "proj"), env: SCOPE })).toEqual({
      stdout: "",
      stderr: `Initialized SimpleBroker database: ${join(root, "proj/.broker.db")}\n`,
      exitCode: 0,
    });
    writeFileSync(join(root, "proj/.broker.toml"), 'version = 1\nbackend = "sqlite"\ntarget = "data/queue.db"\n');
    const cwd = join(root, "proj/src/deep");

    expect(await runCli(["write", "q", "via-toml"], { cwd, env: SCOPE })).toEqual(OK);
    expect(existsSync(join(root, "proj/data/queue.db"))).toBe(true);
    expect(await runCli(["-f", join(root, "proj/data/queue.db"), "peek", "q"], { cwd })).toEqual({
      stdout: "via-toml\n",
      stderr: "",
      exitCode: 0,
    });
    expect(await runCli(["peek", "q"], { cwd: join(root, "proj") })).toEqual({ stdout: "", stderr: "", exitCode: 2 });
    expect(await runCli(["init"], { cwd, env: SCOPE })).toEqual({
      stdout: "",
      stderr: `SimpleBroker database already exists: ${join(root, "proj/data/queue.db")}\n`,
      exitCode: 0,
    });
    expect(await runCli(["read", "q"], { cwd, env: SCOPE })).toEqual({ stdout: "via-toml\n", stderr: "", exitCode: 0 });
  },
  SLOW,
);

test.concurrent(
  "nothing found: the exact error, for reads and writes; init creates in cwd",
  async () => {
    using d = tempDir();
    const cwd = join(d.path, "empty/sub");
    mkdirSync(cwd, { recursive: true });
    const notFound = {
      stdout: "",
      stderr: `simplebroker: error: BROKER_PROJECT_SCOPE is enabled but no project database '.broker.db' was found in '${cwd}' or any parent directory. Run 'broker init' in the project root directory to create one.\n`,
      exitCode: 1,
    };
    expect(await runCli(["peek", "q"], { cwd, env: SCOPE })).toEqual(notFound);
    expect(await runCli(["write", "q", "m"], { cwd, env: SCOPE })).toEqual(notFound);
    expect(await runCli(["list"], { cwd, env: { BROKER_PROJECT_SCOPE: " Yes " } })).toEqual(notFound);
    expect(readdirSync(cwd)).toEqual([]);

    expect(await runCli(["init"], { cwd, env: SCOPE })).toEqual({
      stdout: "",
      stderr: `Initialized SimpleBroker database: ${join(cwd, ".broker.db")}\n`,
      exitCode: 0,
    });
    expect(existsSync(join(d.path, "empty/.broker.db"))).toBe(false);
    expect(await runCli(["-q", "init"], { cwd, env: SCOPE })).toEqual(OK);
    expect(await runCli(["write", "q", "m"], { cwd, env: SCOPE })).toEqual(OK);
    expect(await runCli(["read", "q"], { cwd })).toEqual({ stdout: "m\n", stderr: "", exitCode: 0 });
  },
  SLOW,
);
