// The PostgreSQL backend against a live server (BROKER_TEST_POSTGRES_URL,
// default postgres://postgres@127.0.0.1:5432/test). No server = failures, not skips.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { PostgresBackend } from "../../../lib/backends/postgres/index.ts";
import { channelFor } from "../../../lib/backends/postgres/keys.ts";
import { Broker } from "../../../lib/queue/broker.ts";
import { resolveConfig } from "../../../lib/target/config.ts";
import { BackendError } from "../../../lib/core/errors.ts";
import type { Message } from "../../../lib/core/types.ts";
import { QueueWatcher } from "../../../lib/watch/watcher.ts";
import { uniqueName } from "../../helpers.ts";
import { describeBackendContract } from "../../../lib/testing.ts";
import { postgresUrl } from "../../services.ts";

const URL = await postgresUrl();
const config = resolveConfig();
const schemas = new Set<string>();
const opened: PostgresBackend[] = [];
const admin = new SQL(URL, { max: 2 });

function backend(schema = uniqueName("sbpg"), url = URL): PostgresBackend {
  schemas.add(schema);
  const b = new PostgresBackend({ url, options: { schema }, config });
  opened.push(b);
  return b;
}

// Close each test's backends when it ends: the server's connection slots are shared.
afterEach(async () => {
  for (const b of opened.splice(0)) await b.close().catch(() => {});
});

afterAll(async () => {
  for (const s of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.close();
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

describeBackendContract({
  name: "postgres",
  create: async () => {
    const b = backend();
    await b.init();
    return b;
  },
  connectSame: async (b) => backend((b as PostgresBackend).schema),
});

describe("postgres backend", () => {
  test("creates the documented layout (docs/on-disk-format.md#postgres) with one typed meta row", async () => {
    const b = backend();
    await b.init();
    await b.init(); // idempotent
    const idx = await admin.unsafe("SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname", [b.schema]);
    expect(idx.map((r: { indexname: string }) => r.indexname)).toEqual([
      "aliases_pkey",
      "attempts_pkey",
      "held_pkey",
      "idx_aliases_target",
      "idx_held_due",
      "idx_held_queue_due",
      "idx_held_ts_unique",
      "idx_messages_queue_order",
      "idx_messages_queue_ts_order_unclaimed",
      "idx_messages_ts_unique",
      "idx_messages_unclaimed",
      "messages_pkey",
      "meta_pkey",
    ]);
    const meta = await admin.unsafe(`SELECT magic, schema_version::text AS v, last_ts::text AS t FROM "${b.schema}".meta`);
    expect(meta.map((r: object) => ({ ...r }))).toEqual([{ magic: "simplebroker-v1", v: "5", t: "0" }]);
    const [id] = await b.write("q", ["x"]);
    const [row] = await admin.unsafe(`SELECT last_ts::text AS t FROM "${b.schema}".meta`);
    expect(row.t).toBe(String(id));
  });

  test("the first operation creates the schema lazily", async () => {
    const b = backend();
    expect(await b.status()).toMatchObject({ totalMessages: 0, lastTimestamp: 0n });
    expect(await b.listStats()).toEqual([]);
  });

  test("refuses public, reserved and malformed schema names", () => {
    for (const schema of ["public", "PUBLIC", "pg_temp_x", "information_schema", "1abc", "a-b", 'x"; DROP', "", "a".repeat(64)]) {
      expect(() => new PostgresBackend({ url: URL, options: { schema }, config })).toThrow(/schema/);
    }
  });

  test("refuses a non-empty foreign schema and leaves it alone", async () => {
    const schema = uniqueName("sbforeign");
    schemas.add(schema);
    await admin.unsafe(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".people (id int)`);
    const b = backend(schema);
    await expect(b.init()).rejects.toThrow(/not a SimpleBroker schema/);
    await expect(b.write("q", ["x"])).rejects.toBeInstanceOf(BackendError);
    await expect(b.cleanup()).rejects.toThrow(/refusing to drop/);
    const [t] = await admin.unsafe("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1", [schema]);
    expect(t.n).toBe(1);
    // A foreign table named meta is not ours either.
    const other = uniqueName("sbforeign");
    schemas.add(other);
    await admin.unsafe(
      `CREATE SCHEMA "${other}"; CREATE TABLE "${other}".meta (magic text); INSERT INTO "${other}".meta VALUES ('x')`,
    );
    await expect(backend(other).init()).rejects.toThrow(/not a SimpleBroker schema/);
  });

  test("adopts an existing empty schema", async () => {
    const schema = uniqueName("sbempty");
    schemas.add(schema);
    await admin.unsafe(`CREATE SCHEMA "${schema}"`);
    const b = backend(schema);
    await b.init();
    expect(await b.write("q", ["x"])).toHaveLength(1);
  });

  test("cleanup drops only its own schema and reports whether it existed", async () => {
    const b = backend();
    expect(await b.cleanup()).toBe(false);
    await b.write("q", ["x"]);
    expect(await b.cleanup()).toBe(true);
    const [r] = await admin.unsafe("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1", [b.schema]);
    expect(r.n).toBe(0);
    expect(await b.cleanup()).toBe(false);
    const empty = uniqueName("sbempty");
    schemas.add(empty);
    await admin.unsafe(`CREATE SCHEMA "${empty}"`);
    expect(await backend(empty).cleanup()).toBe(false);
    const [e] = await admin.unsafe("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1", [empty]);
    expect(e.n).toBe(1);
    // The same instance keeps working after cleanup: the schema is set up again.
    expect(await b.listStats()).toEqual([]);
  });

  test("four concurrent initialisations of one schema all succeed", async () => {
    const schema = uniqueName("sbinit");
    const peers = [1, 2, 3, 4].map(() => backend(schema));
    await Promise.all(peers.map((p) => p.init()));
    await Promise.all(peers.map((p) => p.write("q", ["x"])));
    expect((await peers[0]!.queueStats("q")).total).toBe(4);
  });

  test("waitForActivity wakes on a write from another backend instance", async () => {
    const watcher = backend();
    const writer = backend(watcher.schema);
    await watcher.init();
    await watcher.listening();
    const started = performance.now();
    const woke = watcher.waitForActivity(["q"], 10_000);
    await writer.write("q", ["hello"]);
    expect(await woke).toBe(true);
    expect(performance.now() - started).toBeLessThan(2_000);
    // Other queues do not wake it; moves wake the destination; broadcast wakes everyone.
    const quiet = watcher.waitForActivity(["q"], 300);
    await writer.write("other", ["x"]);
    expect(await quiet).toBe(false);
    const moved = watcher.waitForActivity(["dest"], 10_000);
    await writer.move("other", "dest", {});
    expect(await moved).toBe(true);
    const all = watcher.waitForActivity(["q"], 10_000);
    await writer.broadcast("all");
    expect(await all).toBe(true);
    const ctl = new AbortController();
    const aborted = watcher.waitForActivity(["q"], 10_000, ctl.signal);
    ctl.abort();
    expect(await aborted).toBe(false);
  });

  test("a dropped LISTEN connection wakes waiters, and wake-ups resume after the reconnect", async () => {
    const b = backend();
    const writer = backend(b.schema);
    await b.init();
    await b.listening();
    const woke = b.waitForActivity(["q"], 10_000);
    const killed = await admin.unsafe(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND query LIKE $1",
      [`%${b.channel}%`],
    );
    expect(killed.length).toBe(1);
    expect(await woke).toBe(true);
    const again = b.waitForActivity(["q"], 10_000);
    await writer.write("q", ["after reconnect"]);
    expect(await again).toBe(true);
  });

  test("a QueueWatcher on one instance receives writes made through another", async () => {
    const mine = backend();
    const other = backend(mine.schema);
    await mine.init();
    const got: Message[] = [];
    const watcher = new QueueWatcher("jobs", (m) => void got.push(m), { db: new Broker(mine, config) });
    watcher.start();
    await mine.listening();
    await other.write("jobs", ["one", "two"]);
    const deadline = Date.now() + 5_000;
    while (got.length < 2 && Date.now() < deadline) await Bun.sleep(10);
    await watcher.stop();
    expect(got.map((m) => m.body)).toEqual(["one", "two"]);
  });

  test("the channel is simplebroker_ + 24 hex digits of md5(schema)", async () => {
    const [r] = await admin.unsafe("SELECT 'simplebroker_' || substr(md5($1), 1, 24) AS c", ["simplebroker_pg_v1"]);
    expect(channelFor("simplebroker_pg_v1")).toBe(r.c);
  });

  test("a reservation holds its rows: other claims skip them, rollback restores them", async () => {
    const b = backend();
    const peer = backend(b.schema);
    await b.write("q", ["1", "2", "3"]);
    const r = await b.reserve("q", { limit: 2 });
    expect(r.messages.map((m) => m.body)).toEqual(["1", "2"]);
    expect((await peer.claim("q", { limit: 10 })).map((m) => m.body)).toEqual(["3"]);
    await r.rollback();
    await r.rollback(); // idempotent
    expect((await peer.claim("q", { limit: 10 })).map((m) => m.body)).toEqual(["1", "2"]);
  });

  test("bodies with NUL survive TEXT storage; ordinary bodies are stored as they are", async () => {
    const b = backend();
    await b.write("q", ["plain", "a\0b", "\uFDD0lookalike"]);
    const raw = await admin.unsafe(`SELECT body FROM "${b.schema}".messages ORDER BY order_id`);
    expect(raw[0].body).toBe("plain");
    expect((await b.peek("q", { limit: 3 })).map((m) => m.body)).toEqual(["plain", "a\0b", "\uFDD0lookalike"]);
  });

  test("the password never appears in displayTarget or in errors", async () => {
    const secret = "hunter2-sekrit";
    const b = backend(undefined, `postgres://postgres:${secret}@127.0.0.1:1/test`);
    expect(b.displayTarget).not.toContain(secret);
    expect(b.displayTarget).toContain("postgres:***@127.0.0.1:1/test");
    const error = await b.write("q", ["x"]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackendError);
    const text = `${(error as Error).message} ${String((error as Error).stack)}`;
    expect(text).not.toContain(secret);
    expect((error as Error).message).toContain("Cannot connect to PostgreSQL at postgres://postgres:***@127.0.0.1:1/test");
    expect((error as Error).message).not.toContain("\n");
    expect((error as BackendError).retryable).toBe(true);
    // A password the server does not need (trust auth) is still hidden.
    const ok = backend(undefined, URL.replace("postgres@", `postgres:${secret}@`));
    expect(ok.displayTarget).not.toContain(secret);
    await ok.write("q", ["x"]);
  });
});
