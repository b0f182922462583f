// openBroker(url) against the live servers (BROKER_TEST_POSTGRES_URL, BROKER_TEST_REDIS_URL):
// a message written through the library is read back by the real CLI; bad URLs are errors,
// never folders (docs/urls.md).
import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { readdirSync } from "node:fs";
import { openBroker } from "../../lib/queue/open.ts";
import { Queue } from "../../lib/queue/queue.ts";
import { BrokerError } from "../../lib/core/errors.ts";
import { runCli, tempDir, uniqueName } from "../helpers.ts";
import { postgresUrl, redisUrl, unlinkRedisKeys } from "../services.ts";

const PG = await postgresUrl();
const REDIS = await redisUrl();
const schemas: string[] = [];
const namespaces: string[] = [];

afterAll(async () => {
  const admin = new SQL(PG, { max: 1 });
  for (const s of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.close();
  for (const n of namespaces) await unlinkRedisKeys(REDIS, `simplebroker:${n}:*`);
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

/** Write `body` through openBroker(url, options), return what the CLI reads with `env`. */
async function roundTrip(url: string, options: { schema?: string; namespace?: string }, env: Record<string, string>) {
  const body = `hello ${uniqueName("m")}`;
  const broker = await openBroker(url, options);
  let id: bigint;
  try {
    [id] = (await broker.write("jobs", body)) as [bigint];
  } finally {
    await broker.close();
  }
  using dir = tempDir();
  const read = await runCli(["read", "jobs", "-t"], { cwd: dir.path, env: { BROKER_REDIS_PERSISTENCE_WARNING: "0", ...env } });
  expect(readdirSync(dir.path)).toEqual([]);
  return { body, id, read };
}

describe("openBroker(url)", () => {
  test("postgres:// with the schema in the query string", async () => {
    const schema = uniqueName("sburl");
    schemas.push(schema);
    const url = `${PG.replace(/^postgresql:/, "postgres:")}?schema=${schema}`;
    const { body, id, read } = await roundTrip(
      url,
      {},
      { BROKER_BACKEND: "postgres", BROKER_BACKEND_TARGET: PG, BROKER_BACKEND_SCHEMA: schema },
    );
    expect(read).toEqual({ stdout: `${id}\t${body}\n`, stderr: "", exitCode: 0 });
  });

  test("postgresql:// with the schema as an option", async () => {
    const schema = uniqueName("sburl");
    schemas.push(schema);
    const url = PG.replace(/^postgres:/, "postgresql:");
    const { body, read } = await roundTrip(
      url,
      { schema },
      { BROKER_BACKEND: "postgres", BROKER_BACKEND_TARGET: PG, BROKER_BACKEND_SCHEMA: schema },
    );
    expect(read.stdout.endsWith(`\t${body}\n`)).toBe(true);
    expect(read.exitCode).toBe(0);
  });

  for (const scheme of ["redis", "valkey"]) {
    test(`${scheme}:// with the namespace in the query string, then as an option`, async () => {
      const namespace = uniqueName("sburl");
      namespaces.push(namespace);
      const url = REDIS.replace(/^redis:/, `${scheme}:`);
      const env = { BROKER_BACKEND: "redis", BROKER_BACKEND_TARGET: REDIS, BROKER_BACKEND_SCHEMA: namespace };
      const first = await roundTrip(`${url}?namespace=${namespace}`, {}, env);
      expect(first.read).toEqual({ stdout: `${first.id}\t${first.body}\n`, stderr: "", exitCode: 0 });
      const second = await roundTrip(url, { namespace }, env);
      expect(second.read.stdout).toBe(`${second.id}\t${second.body}\n`);
    });
  }

  test("a schema given twice with different values is an error", async () => {
    const error = await openBroker(`${PG}?schema=a`, { schema: "b" }).catch((e) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error.message).toContain("given more than once");
  });

  test("schema or namespace with a path target is an error", async () => {
    using dir = tempDir();
    const error = await openBroker(`${dir.path}/x.db`, { schema: "s" }).catch((e) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect(readdirSync(dir.path)).toEqual([]);
  });
});

describe("URL-like strings are never paths", () => {
  for (const bad of ["ftp://x", "postgres:/x", "redis:x", "http://host/db", "file:///tmp/x.db", "postgres://user:sekret@[bad"]) {
    test(`openBroker(${JSON.stringify(bad)}) is a BrokerError and creates nothing`, async () => {
      using dir = tempDir();
      const cwd = process.cwd();
      process.chdir(dir.path);
      try {
        const error = await openBroker(bad).catch((e) => e);
        expect(error).toBeInstanceOf(BrokerError);
        expect(error.message).toMatch(/target URL/);
        expect(error.message).not.toContain("sekret");
        expect(() => new Queue("jobs", { dbPath: bad })).toThrow(BrokerError);
      } finally {
        process.chdir(cwd);
      }
      expect(readdirSync(dir.path)).toEqual([]);
    });
  }

  test("new Queue with a postgres:// dbPath says Queue is SQLite-only and names openBroker", () => {
    expect(() => new Queue("jobs", { dbPath: PG })).toThrow(/Queue works on SQLite.*openBroker/);
  });
});
