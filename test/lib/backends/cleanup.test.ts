// Cleanup removes only what SimpleBroker created (issue 19, item 4), against the real servers:
// Postgres refuses while the schema holds or feeds someone else's objects, Redis while the
// namespace holds keys outside our layout, and SQLite deletes only the database, its companions
// and our lock files — never another application's file.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { RedisClient, SQL } from "bun";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPostgresBackend } from "../../../lib/backends/postgres/index.ts";
import { createRedisBackend } from "../../../lib/backends/redis/index.ts";
import { createSqliteBackend } from "../../../lib/backends/sqlite/index.ts";
import { resolveConfig } from "../../../lib/target/config.ts";
import { tempDir, uniqueName } from "../../helpers.ts";
import { postgresUrl, redisUrl } from "../../services.ts";

const PG_URL = await postgresUrl();
const REDIS_URL = await redisUrl();
const config = resolveConfig();

describe("postgres cleanup", () => {
  const schema = uniqueName("sb_clean");
  const other = uniqueName("sb_clean_other");
  const admin = new SQL(PG_URL, { max: 1 });
  afterAll(async () => {
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${other}" CASCADE`);
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.close();
  });
  const relations = async (nsp: string) =>
    (
      await admin.unsafe(
        "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname = $1 AND relkind IN ('r', 'v') ORDER BY 1",
        [nsp],
      )
    ).map((r: { relname: string }) => r.relname);

  test("refuses while a user's table, index or another schema's view is there, then drops only ours", async () => {
    const b = createPostgresBackend({ url: PG_URL, options: { schema }, config });
    try {
      await b.write("q", ["x"]);
      await admin.unsafe(`CREATE TABLE "${schema}".user_notes (note text)`);
      await expect(b.cleanup!()).rejects.toThrow(
        `PostgreSQL schema '${schema}' also holds or feeds objects SimpleBroker did not create (table ${schema}.user_notes); refusing to drop it`,
      );
      expect(await relations(schema)).toEqual(["aliases", "attempts", "held", "messages", "meta", "user_notes"]);

      await admin.unsafe(`DROP TABLE "${schema}".user_notes`);
      // An index someone added to our own table is theirs too.
      await admin.unsafe(`CREATE INDEX user_body_idx ON "${schema}".messages (body)`);
      await expect(b.cleanup!()).rejects.toThrow(`(index ${schema}.user_body_idx); refusing to drop it`);
      await admin.unsafe(`DROP INDEX "${schema}".user_body_idx`);
      await admin.unsafe(`CREATE SCHEMA "${other}"`);
      await admin.unsafe(`CREATE VIEW "${other}".queue_names AS SELECT DISTINCT queue FROM "${schema}".messages`);
      await expect(b.cleanup!()).rejects.toThrow(`(view ${other}.queue_names); refusing to drop it`);
      expect(await relations(other)).toEqual(["queue_names"]);
      expect(await relations(schema)).toEqual(["aliases", "attempts", "held", "messages", "meta"]);

      await admin.unsafe(`DROP VIEW "${other}".queue_names`);
      expect(await b.cleanup!()).toBe(true);
      expect(await admin.unsafe("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema])).toHaveLength(0);
      expect(await b.cleanup!()).toBe(false);
    } finally {
      await b.close();
    }
  }, 30_000);
});

describe("redis cleanup", () => {
  const namespace = uniqueName("sb_clean");
  const prefix = `simplebroker:${namespace}:`;
  const admin = new RedisClient(REDIS_URL);
  const keys = async () => {
    const [, found] = (await admin.send("SCAN", ["0", "MATCH", `${prefix}*`, "COUNT", "100000"])) as [string, string[]];
    return found.sort();
  };
  afterAll(async () => {
    const left = await keys();
    if (left.length) await admin.send("UNLINK", left);
    admin.close();
  });

  test("refuses while a key outside our layout is in the namespace, then deletes only ours", async () => {
    const b = createRedisBackend({ url: REDIS_URL, options: { namespace }, config });
    try {
      await b.write("jobs", ["a", "b"]);
      await b.claim("jobs", {});
      await admin.send("SET", [`${prefix}user:settings`, "keep me"]);
      const before = await keys();
      await expect(b.cleanup!()).rejects.toThrow(
        `Redis namespace '${namespace}' also holds keys SimpleBroker did not create (${prefix}user:settings); refusing to delete it`,
      );
      expect(await keys()).toEqual(before);

      await admin.send("DEL", [`${prefix}user:settings`]);
      expect(await b.cleanup!()).toBe(true);
      expect(await keys()).toEqual([]);
    } finally {
      await b.close();
    }
  }, 30_000);
});

describe("sqlite cleanup", () => {
  test("deletes the database, its -wal/-shm/-journal and our lock files, and nothing else", async () => {
    using d = tempDir();
    const path = join(d.path, "app.db");
    const b = createSqliteBackend(path, config);
    await b.write("q", ["x"]);
    await b.close();
    for (const [name, text] of [
      ["app.db-wal", ""],
      ["app.db-shm", ""],
      ["app.db-journal", ""],
      ["app.vacuum.lock", "4242\n"],
      ["app.setup.lock", "\0"],
      ["app.db.bak", "a backup"],
      ["notes.txt", "mine"],
    ])
      writeFileSync(join(d.path, name!), text!);
    expect(await b.cleanup!()).toBe(true);
    expect(readdirSync(d.path).sort()).toEqual(["app.db.bak", "notes.txt"]);
  });

  test("a lock file with someone else's content stays", async () => {
    using d = tempDir();
    const path = join(d.path, "q.db");
    const b = createSqliteBackend(path, config);
    await b.write("q", ["x"]);
    writeFileSync(join(d.path, "q.setup.lock"), "another program's lock");
    expect(await b.cleanup!()).toBe(true);
    expect(readdirSync(d.path)).toEqual(["q.setup.lock"]);
  });

  test("another application's SQLite file is refused and left byte-identical", async () => {
    using d = tempDir();
    const path = join(d.path, "app.db");
    const db = new Database(path, { create: true });
    db.run("CREATE TABLE messages (id INTEGER PRIMARY KEY, text TEXT)");
    db.close();
    const bytes = readFileSync(path);
    const b = createSqliteBackend(path, config);
    await expect(b.cleanup!()).rejects.toThrow(path);
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });
});
