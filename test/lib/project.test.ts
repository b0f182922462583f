// Guards project discovery (docs/compatibility.md#project-scope), library target resolution
// (#target-resolution) and the env-synthesised postgres/redis targets with password redaction.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { resolveConfig } from "../../lib/target/config.ts";
import { ConfigError } from "../../lib/core/errors.ts";
import {
  envBackendTarget,
  findProjectConfig,
  findProjectDatabase,
  isValidSimpleBrokerDb,
  loadProjectConfig,
  redactTarget,
  resolveBrokerTarget,
  targetForDirectory,
} from "../../lib/target/project.ts";
import { tempDir } from "../helpers.ts";

/** A minimal SimpleBroker database: only what discovery looks at. */
function makeDb(path: string, magic = "simplebroker-v1"): string {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true });
  db.run("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
  db.run("INSERT INTO meta VALUES ('magic', ?)", [magic]);
  db.close();
  return path;
}

function writeToml(path: string, body: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
  return path;
}

const cfg = (overrides: Record<string, unknown> = {}) => resolveConfig(overrides, {});

describe("isValidSimpleBrokerDb", () => {
  test("accepts a database with the magic", () => {
    using d = tempDir();
    expect(isValidSimpleBrokerDb(makeDb(join(d.path, ".broker.db")))).toBe(true);
  });

  test.each([
    ["wrong magic", (p: string) => makeDb(p, "other-v1")],
    ["foreign sqlite", (p: string) => new Database(p, { create: true }).run("CREATE TABLE t (x)")],
    ["text file", (p: string) => writeFileSync(p, "SQLite format 2 but not really a database")],
    ["empty file", (p: string) => writeFileSync(p, "")],
    ["directory", (p: string) => mkdirSync(p)],
    ["missing", () => {}],
  ])("rejects a %s", (_name, make) => {
    using d = tempDir();
    const path = join(d.path, ".broker.db");
    make(path);
    expect(isValidSimpleBrokerDb(path)).toBe(false);
  });
});

describe("findProjectDatabase", () => {
  test("the nearest valid database wins", () => {
    using d = tempDir();
    makeDb(join(d.path, ".broker.db"));
    const near = makeDb(join(d.path, "a", ".broker.db"));
    mkdirSync(join(d.path, "a", "b", "c"), { recursive: true });
    expect(findProjectDatabase(join(d.path, "a", "b", "c"), cfg())).toBe(near);
  });

  test("foreign and wrong-magic databases are skipped", () => {
    using d = tempDir();
    const outer = makeDb(join(d.path, ".broker.db"));
    makeDb(join(d.path, "a", ".broker.db"), "not-simplebroker");
    mkdirSync(join(d.path, "a", "b"));
    writeFileSync(join(d.path, "a", "b", ".broker.db"), "plain text");
    expect(findProjectDatabase(join(d.path, "a", "b"), cfg())).toBe(outer);
  });

  test("nothing found is null", () => {
    using d = tempDir();
    expect(findProjectDatabase(d.path, cfg())).toBeNull();
  });

  test("uses BROKER_DEFAULT_DB_NAME, compound names included", () => {
    using d = tempDir();
    makeDb(join(d.path, ".broker.db"));
    const compound = makeDb(join(d.path, "data", "q.db"));
    mkdirSync(join(d.path, "x"));
    expect(findProjectDatabase(join(d.path, "x"), cfg({ defaultDbName: "data/q.db" }))).toBe(compound);
  });
});

describe("resolveBrokerTarget", () => {
  test("a legacy database gives a path-mode sqlite target rooted at its directory", () => {
    using d = tempDir();
    const db = makeDb(join(d.path, ".broker.db"));
    mkdirSync(join(d.path, "sub"));
    expect(resolveBrokerTarget(join(d.path, "sub"), cfg())).toEqual({
      backendName: "sqlite",
      target: db,
      backendOptions: {},
      projectRoot: d.path,
      configPath: null,
      usedProjectScope: true,
      legacySqlitePathMode: true,
    });
  });

  test("compound names put the project root above the subdirectory", () => {
    using d = tempDir();
    makeDb(join(d.path, "data", "q.db"));
    expect(resolveBrokerTarget(d.path, cfg({ defaultDbName: "data/q.db" }))?.projectRoot).toBe(d.path);
  });

  test(".broker.toml beats a nearer legacy database", () => {
    using d = tempDir();
    const toml = writeToml(join(d.path, ".broker.toml"), 'version = 1\nbackend = "sqlite"\ntarget = "main.db"\n');
    makeDb(join(d.path, "a", ".broker.db"));
    expect(resolveBrokerTarget(join(d.path, "a"), cfg())).toEqual({
      backendName: "sqlite",
      target: join(d.path, "main.db"),
      backendOptions: {},
      projectRoot: d.path,
      configPath: toml,
      usedProjectScope: true,
      legacySqlitePathMode: false,
    });
  });

  test("a sqlite TOML target is relative to the TOML directory, symlinks resolved", () => {
    using d = tempDir();
    mkdirSync(join(d.path, "proj", "real"), { recursive: true });
    symlinkSync(join(d.path, "proj", "real"), join(d.path, "proj", "link"));
    writeToml(join(d.path, "proj", ".broker.toml"), 'version = 1\nbackend = "sqlite"\ntarget = "link/q.db"\n');
    mkdirSync(join(d.path, "proj", "deep", "er"), { recursive: true });
    const target = resolveBrokerTarget(join(d.path, "proj", "deep", "er"), cfg());
    expect(target?.target).toBe(join(d.path, "proj", "real", "q.db"));
  });

  test("nothing found is null; a non-sqlite BROKER_BACKEND is synthesised", () => {
    using d = tempDir();
    expect(resolveBrokerTarget(d.path, cfg())).toBeNull();
    const redis = resolveBrokerTarget(d.path, cfg({ backend: "redis" }));
    expect(redis).toMatchObject({ backendName: "redis", target: "redis://127.0.0.1:6379/0", projectRoot: d.path });
  });

  test("BROKER_PROJECT_CONFIG_NAME and a relative BROKER_PROJECT_CONFIG_PATH", () => {
    using d = tempDir();
    const toml = writeToml(join(d.path, "conf", "broker.toml"), 'version = 1\nbackend = "sqlite"\ntarget = "x.db"\n');
    mkdirSync(join(d.path, "a"));
    const config = cfg({ projectConfigPath: "conf", projectConfigName: "broker.toml" });
    expect(findProjectConfig(join(d.path, "a"), config)).toBe(toml);
    expect(findProjectConfig(join(d.path, "a"), cfg())).toBeNull();
    expect(resolveBrokerTarget(join(d.path, "a"), config)?.target).toBe(join(d.path, "conf", "x.db"));
  });

  test("an absolute BROKER_PROJECT_CONFIG_PATH is checked from anywhere, without upward search", () => {
    using d = tempDir();
    using elsewhere = tempDir();
    const toml = writeToml(join(d.path, "etc", ".broker.toml"), 'version = 1\nbackend = "sqlite"\ntarget = "q.db"\n');
    expect(findProjectConfig(elsewhere.path, cfg({ projectConfigPath: join(d.path, "etc") }))).toBe(toml);
    expect(findProjectConfig(elsewhere.path, cfg({ projectConfigPath: join(d.path, "none") }))).toBeNull();
  });

  test("a postgres TOML owns target and schema; the env password is added", () => {
    using d = tempDir();
    writeToml(
      join(d.path, ".broker.toml"),
      'version = 1\nbackend = "postgres"\ntarget = "postgresql://app@db:5432/q"\n[backend_options]\nschema = "app_v1"\n',
    );
    const config = cfg({ BROKER_BACKEND_PASSWORD: "p w", BROKER_BACKEND_TARGET: "postgresql://ignored/x" });
    expect(resolveBrokerTarget(d.path, config)).toMatchObject({
      backendName: "postgres",
      target: "postgresql://app:p%20w@db:5432/q",
      backendOptions: { schema: "app_v1" },
      legacySqlitePathMode: false,
    });
  });

  test("a redis TOML keeps its options and defaults the namespace", () => {
    using d = tempDir();
    writeToml(join(d.path, ".broker.toml"), 'version = 1\nbackend = "redis"\ntarget = "redis://r:6379/1"\n');
    expect(resolveBrokerTarget(d.path, cfg())).toMatchObject({
      target: "redis://r:6379/1",
      backendOptions: { namespace: "simplebroker_redis_v1" },
    });
  });
});

describe("loadProjectConfig errors", () => {
  test.each([
    ['backend = "sqlite"\ntarget = "x.db"\n', "Unsupported .broker.toml version None; expected 1"],
    ['version = 2\nbackend = "sqlite"\ntarget = "x.db"\n', "Unsupported .broker.toml version 2; expected 1"],
    ['version = 1\ntarget = "x.db"\n', ".broker.toml requires a non-empty string 'backend'"],
    ['version = 1\nbackend = 3\ntarget = "x.db"\n', ".broker.toml requires a non-empty string 'backend'"],
    ['version = 1\nbackend = "sqlite"\ntarget = ""\n', ".broker.toml requires a non-empty string 'target'"],
    [
      'version = 1\nbackend = "sqlite"\ntarget = "x"\nbackend_options = "no"\n',
      "'backend_options' must be a table in .broker.toml",
    ],
  ])("%j", (body, message) => {
    using d = tempDir();
    const file = writeToml(join(d.path, ".broker.toml"), body);
    expect(() => loadProjectConfig(file)).toThrow(new ConfigError(message));
  });

  test("a TOML syntax error is a one-line ConfigError", () => {
    using d = tempDir();
    const file = writeToml(join(d.path, ".broker.toml"), "version = \n");
    expect(() => loadProjectConfig(file)).toThrow(ConfigError);
    try {
      loadProjectConfig(file);
    } catch (error) {
      expect((error as Error).message).toStartWith(`Invalid .broker.toml ${file}: `);
      expect((error as Error).message).not.toContain("\n");
    }
  });

  test("strings are decoded as TOML (non-ASCII intact, FIX Q22)", () => {
    using d = tempDir();
    const file = writeToml(
      join(d.path, ".broker.toml"),
      'version = 1\nbackend = "redis"\ntarget = "redis://h/0"\n[backend_options]\nnamespace = "caf\\u00e9"\n',
    );
    expect(loadProjectConfig(file).backendOptions).toEqual({ namespace: "café" });
  });

  test("an unknown backend is not available", () => {
    using d = tempDir();
    writeToml(join(d.path, ".broker.toml"), 'version = 1\nbackend = "mysql"\ntarget = "x"\n');
    expect(() => resolveBrokerTarget(d.path, cfg())).toThrow(new ConfigError("Requested backend 'mysql' is not available."));
  });
});

describe("targetForDirectory", () => {
  test("default: <dir>/<BROKER_DEFAULT_DB_NAME>, no upward search", () => {
    using d = tempDir();
    makeDb(join(d.path, ".broker.db"));
    writeToml(join(d.path, ".broker.toml"), 'version = 1\nbackend = "sqlite"\ntarget = "x.db"\n');
    mkdirSync(join(d.path, "sub"));
    expect(targetForDirectory(join(d.path, "sub"), cfg({ projectScope: true }))).toEqual({
      backendName: "sqlite",
      target: join(d.path, "sub", ".broker.db"),
      backendOptions: {},
      projectRoot: join(d.path, "sub"),
      configPath: null,
      usedProjectScope: false,
      legacySqlitePathMode: true,
    });
  });

  test("a TOML exactly in the directory wins", () => {
    using d = tempDir();
    writeToml(join(d.path, ".broker.toml"), 'version = 1\nbackend = "sqlite"\ntarget = "x.db"\n');
    expect(targetForDirectory(d.path, cfg({ backend: "redis" })).target).toBe(join(d.path, "x.db"));
  });

  test("then a non-sqlite env backend, then the compound default name", () => {
    using d = tempDir();
    expect(targetForDirectory(d.path, cfg({ backend: "redis" })).backendName).toBe("redis");
    expect(targetForDirectory(d.path, cfg({ defaultDbName: "q/x.db" })).target).toBe(join(d.path, "q", "x.db"));
  });
});

describe("envBackendTarget", () => {
  test.each<[Record<string, unknown>, string, Record<string, unknown>]>([
    [{ backend: "postgres" }, "postgresql://postgres@localhost:5432/simplebroker", { schema: "simplebroker_pg_v1" }],
    [
      { backend: "postgres", backendUser: "a b", backendPassword: "p@ss:/'", backendDatabase: "d/b", backendPort: 6000 },
      "postgresql://a%20b:p%40ss%3A%2F%27@localhost:6000/d%2Fb",
      { schema: "simplebroker_pg_v1" },
    ],
    [
      { backend: "postgres", backendHost: "::1" },
      "postgresql://postgres@[::1]:5432/simplebroker",
      { schema: "simplebroker_pg_v1" },
    ],
    [
      { backend: "postgres", backendTarget: " postgresql://u@h/db ", backendSchema: "s1" },
      "postgresql://u@h/db",
      { schema: "s1" },
    ],
    [{ backend: "redis" }, "redis://127.0.0.1:6379/0", { namespace: "simplebroker_redis_v1" }],
    [{ backend: "redis", backendTarget: "redis://cache:6380/2" }, "redis://cache:6380/2", { namespace: "simplebroker_redis_v1" }],
  ])("%j", (overrides, target, backendOptions) => {
    expect(envBackendTarget(cfg(overrides))).toEqual({
      backendName: String(overrides.backend),
      target,
      backendOptions,
      projectRoot: null,
      configPath: null,
      usedProjectScope: false,
      legacySqlitePathMode: false,
    });
  });

  test("unknown and sqlite backends are refused", () => {
    expect(() => envBackendTarget(cfg({ backend: "mysql" }))).toThrow(
      new ConfigError("Requested backend 'mysql' is not available."),
    );
    expect(() => envBackendTarget(cfg())).toThrow(ConfigError);
  });

  test("postgres parts are checked", () => {
    expect(() => envBackendTarget(cfg({ backend: "postgres", backendHost: " " }))).toThrow(
      "BROKER_BACKEND_HOST must be a non-empty string",
    );
    expect(() => envBackendTarget(cfg({ backend: "postgres", backendPort: 70000 }))).toThrow(
      "BROKER_BACKEND_PORT must be an integer between 1 and 65535",
    );
  });
});

describe("redactTarget", () => {
  test.each([
    ["postgresql://user:secret@host:5432/db", "postgresql://user:***@host:5432/db"],
    ["redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"],
    ["postgresql://user@host/db", "postgresql://user@host/db"],
    ["postgresql://u:p%40ss@h/db?sslmode=require", "postgresql://u:***@h/db?sslmode=require"],
    ["host=h user=u password=secret dbname=d", "host=h user=u password=*** dbname=d"],
    ["host=h password='a b' dbname=d", "host=h password=*** dbname=d"],
    ["postgresql://h/db?password=x&sslmode=require", "postgresql://h/db?password=***&sslmode=require"],
    ["/tmp/x/.broker.db", "/tmp/x/.broker.db"],
  ])("%p", (input, expected) => {
    expect(redactTarget(input)).toBe(expected);
  });
});
