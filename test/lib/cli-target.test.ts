// Guards CLI target resolution and SQLite path validation (docs/compatibility.md#target-resolution):
// -d/-f precedence, project scope, env backends, symlink escapes, exact error
// texts, explicit -d beating BROKER_DEFAULT_DB_LOCATION (docs/compatibility.md#q14-explicit-dir-wins)
// and the observable parent-directory rule (#q23-grandparent-directory-check).
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CliTargetOptions, resolveCliTarget } from "../../cli/target.ts";
import { resolveConfig } from "../../lib/target/config.ts";
import { ArgumentError, BackendError, ConfigError } from "../../lib/core/errors.ts";
import { tempDir } from "../helpers.ts";

const cfg = (overrides: Record<string, unknown> = {}) => resolveConfig(overrides, {});

/** Options for `simplebroker [-d dir] [-f file] <command>` run in `cwd`. */
function cli(cwd: string, command: string | undefined, flags: { d?: string; f?: string } = {}): CliTargetOptions {
  return {
    command,
    cwd,
    dir: flags.d ?? cwd,
    dirExplicit: flags.d !== undefined,
    file: flags.f ?? ".broker.db",
    fileExplicit: flags.f !== undefined,
  };
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

function makeDb(path: string): void {
  const db = new Database(path, { create: true });
  db.run("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
  db.run("INSERT INTO meta VALUES ('magic', 'simplebroker-v1')");
  db.close();
}

describe("resolution", () => {
  test("default: <cwd>/.broker.db in path mode", () => {
    using d = tempDir();
    expect(resolveCliTarget(cli(d.path, "write"), cfg())).toEqual({
      backendName: "sqlite",
      target: join(d.path, ".broker.db"),
      backendOptions: {},
      projectRoot: null,
      configPath: null,
      usedProjectScope: false,
      legacySqlitePathMode: true,
    });
  });

  test.each<[string, { d?: string; f?: string }, string]>([
    ["-f name", { f: "custom.db" }, "custom.db"],
    ["relative -d", { d: "sub" }, "sub/.broker.db"],
    ["relative -d and -f", { d: "sub", f: "q.db" }, "sub/q.db"],
    ["-f newdir/x.db (one missing level is created later)", { f: "newdir/x.db" }, "newdir/x.db"],
  ])("%s", (_name, flags, expected) => {
    using d = tempDir();
    mkdirSync(join(d.path, "sub"));
    expect(resolveCliTarget(cli(d.path, "write", flags), cfg()).target).toBe(join(d.path, expected));
  });

  test("absolute -f consistent with -d is accepted; inconsistent is refused", () => {
    using d = tempDir();
    mkdirSync(join(d.path, "sub"));
    mkdirSync(join(d.path, "other"));
    const file = join(d.path, "sub", "x.db");
    expect(resolveCliTarget(cli(d.path, "read", { d: join(d.path, "sub"), f: file }), cfg()).target).toBe(file);
    const error = errorOf(() => resolveCliTarget(cli(d.path, "read", { d: join(d.path, "other"), f: file }), cfg()));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.message).toBe(
      `Inconsistent paths: absolute database path '${file}' conflicts with directory '${join(d.path, "other")}'`,
    );
  });

  test("FIX Q14: an explicit -d beats BROKER_DEFAULT_DB_LOCATION; without -d the location is used", () => {
    using d = tempDir();
    using location = tempDir();
    const config = cfg({ defaultDbLocation: location.path });
    mkdirSync(join(d.path, "sub"));
    expect(resolveCliTarget(cli(d.path, "list", { d: "sub" }), config).target).toBe(join(d.path, "sub", ".broker.db"));
    expect(resolveCliTarget(cli(d.path, "list"), config).target).toBe(join(location.path, ".broker.db"));
  });

  test("init uses <cwd>/<name>, ignoring -d, -f and BROKER_DEFAULT_DB_LOCATION", () => {
    using d = tempDir();
    using location = tempDir();
    const options = cli(d.path, "init", { d: location.path, f: "custom.db" });
    const config = cfg({ defaultDbLocation: location.path, defaultDbName: "q/x.db" });
    expect(resolveCliTarget(options, config).target).toBe(join(d.path, "q", "x.db"));
  });

  test("a non-sqlite BROKER_BACKEND is used unless -f is explicit", () => {
    using d = tempDir();
    const config = cfg({ backend: "redis" });
    expect(resolveCliTarget(cli(d.path, "write"), config)).toMatchObject({
      backendName: "redis",
      target: "redis://127.0.0.1:6379/0",
      legacySqlitePathMode: false,
    });
    expect(resolveCliTarget(cli(d.path, "init"), config).backendName).toBe("redis");
    expect(resolveCliTarget(cli(d.path, "write", { f: "x.db" }), config).target).toBe(join(d.path, "x.db"));
  });

  test("an unknown backend is a ConfigError", () => {
    using d = tempDir();
    expect(() => resolveCliTarget(cli(d.path, "write"), cfg({ backend: "mysql" }))).toThrow(
      new ConfigError("Requested backend 'mysql' is not available."),
    );
  });
});

describe("project scope", () => {
  test("finds the database upward from -d / cwd", () => {
    using d = tempDir();
    makeDb(join(d.path, ".broker.db"));
    mkdirSync(join(d.path, "sub", "deeper"), { recursive: true });
    const target = resolveCliTarget(cli(join(d.path, "sub", "deeper"), "write"), cfg({ projectScope: true }));
    expect(target).toMatchObject({ target: join(d.path, ".broker.db"), usedProjectScope: true, projectRoot: d.path });
  });

  test("a .broker.toml target is not path mode", () => {
    using d = tempDir();
    writeFileSync(join(d.path, ".broker.toml"), 'version = 1\nbackend = "sqlite"\ntarget = "q.db"\n');
    const target = resolveCliTarget(cli(d.path, "read"), cfg({ projectScope: true }));
    expect(target).toMatchObject({ target: join(d.path, "q.db"), legacySqlitePathMode: false });
  });

  test("nothing found is an error, except for init", () => {
    using d = tempDir();
    const config = cfg({ projectScope: true });
    const error = errorOf(() => resolveCliTarget(cli(d.path, "write"), config));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.message).toBe(
      `BROKER_PROJECT_SCOPE is enabled but no project database '.broker.db' was found in '${d.path}' or any parent directory. Run 'broker init' in the project root directory to create one.`,
    );
    expect(resolveCliTarget(cli(d.path, "init"), config).target).toBe(join(d.path, ".broker.db"));
  });

  test("an explicit -f ignores project scope", () => {
    using d = tempDir();
    const target = resolveCliTarget(cli(d.path, "write", { f: "mine.db" }), cfg({ projectScope: true }));
    expect(target).toMatchObject({ target: join(d.path, "mine.db"), usedProjectScope: false });
  });
});

describe("path validation", () => {
  test.each<[string, { d?: string; f?: string }, (dir: string) => string]>([
    ["missing -d", { d: "missing" }, () => "Directory not found: missing"],
    ["missing absolute -d", { d: "/nonexistent-sb-dir/x" }, () => "Directory not found: /nonexistent-sb-dir/x"],
    ["-d is a file", { d: "afile" }, () => "Path is a file, not a directory: afile"],
    [
      "metacharacter in -d",
      { d: "we$ird" },
      () =>
        "Directory argument (-d/--dir) contains dangerous character '$': we$ird. Path components must not contain shell metacharacters or control characters.",
    ],
    [
      "metacharacter in -f",
      { f: "x;rm.db" },
      () =>
        "Database filename contains dangerous character ';': x;rm.db. Path components must not contain shell metacharacters or control characters.",
    ],
    ["-f ../x", { f: "../x" }, () => "Database filename must not contain parent directory references: ../x"],
    ["-f ./x.db", { f: "./x.db" }, () => "Database filename must not contain current directory references: ./x.db"],
    ["-f a/b/c.db (Q23)", { f: "a/b/c.db" }, (dir) => `Parent directory not found: ${join(dir, "a")}`],
    ["symlinked directory pointing outside", { f: "out/x.db" }, () => "Database file must be within the working directory"],
    ["symlinked file pointing outside", { f: "escape.db" }, () => "Database file must be within the working directory"],
  ])("%s", (_name, flags, message) => {
    using d = tempDir();
    using outside = tempDir();
    writeFileSync(join(d.path, "afile"), "");
    symlinkSync(outside.path, join(d.path, "out"));
    symlinkSync(join(outside.path, "real.db"), join(d.path, "escape.db"));
    const error = errorOf(() => resolveCliTarget(cli(d.path, "write", flags), cfg()));
    expect(error).toBeInstanceOf(BackendError);
    expect(error.message).toBe(message(d.path));
  });

  test("a symlink inside the working directory is allowed", () => {
    using d = tempDir();
    mkdirSync(join(d.path, "real"));
    symlinkSync(join(d.path, "real"), join(d.path, "inner"));
    expect(resolveCliTarget(cli(d.path, "write", { f: "inner/x.db" }), cfg()).target).toBe(join(d.path, "inner", "x.db"));
  });

  test("absolute -f skips containment but not the safe-path check", () => {
    using d = tempDir();
    using outside = tempDir();
    const file = join(outside.path, "x.db");
    expect(resolveCliTarget(cli(d.path, "write", { f: file }), cfg()).target).toBe(file);
    expect(() => resolveCliTarget(cli(d.path, "write", { f: `${outside.path}/a#b.db` }), cfg())).toThrow(
      "Database filename contains dangerous character '#'",
    );
  });

  test("the implicit cwd is checked too, for every command, init and the global actions (issue 19)", () => {
    using d = tempDir();
    const odd = join(d.path, "odd#dir");
    mkdirSync(odd);
    for (const command of ["write", "peek", "init", undefined]) {
      expect(() => resolveCliTarget(cli(odd, command), cfg())).toThrow(
        `Directory argument (-d/--dir) contains dangerous character '#': ${odd}.`,
      );
    }
    expect(resolveCliTarget({ ...cli(odd, undefined), validate: false }, cfg()).target).toBe(join(odd, ".broker.db"));
    expect(() => resolveCliTarget(cli(odd, undefined), cfg())).toThrow(BackendError);
  });

  test("a compound BROKER_DEFAULT_DB_NAME with a missing subdirectory passes", () => {
    using d = tempDir();
    expect(resolveCliTarget(cli(d.path, "write"), cfg({ defaultDbName: "q/x.db" })).target).toBe(join(d.path, "q", "x.db"));
  });

  test("a project-scope database skips the -f checks", () => {
    using d = tempDir();
    makeDb(join(d.path, ".broker.db"));
    mkdirSync(join(d.path, "sub"));
    expect(() => resolveCliTarget(cli(join(d.path, "sub"), "read"), cfg({ projectScope: true }))).not.toThrow();
  });
});
