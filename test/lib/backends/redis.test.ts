/**
 * The Redis backend against a real server (`BROKER_TEST_REDIS_URL`, default
 * redis://127.0.0.1:6379/0): the shared backend contract, plus what only
 * Redis has — namespace ownership on cleanup, stale reservations of a
 * consumer that died, and pub/sub wake-ups across instances. An unreachable
 * server fails the suite; it never skips.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { resolve } from "node:path";
import { createRedisBackend, type RedisBackend } from "../../../lib/backends/redis/index.ts";
import { resolveConfig } from "../../../lib/target/config.ts";
import { BackendError } from "../../../lib/core/errors.ts";
import { Broker } from "../../../lib/queue/broker.ts";
import { globMatch } from "../../../lib/util/glob.ts";
import { watchQueue } from "../../../lib/watch/watcher.ts";
import type { BrokerTarget } from "../../../lib/core/types.ts";
import { uniqueName } from "../../helpers.ts";
import { describeBackendContract } from "../../../lib/testing.ts";
import { redisUrl, unlinkRedisKeys } from "../../services.ts";

const URL = await redisUrl();
const RUN = uniqueName("test_redis");
const config = resolveConfig({});
const made: RedisBackend[] = [];
let n = 0;

function open(namespace: string, extra: Record<string, unknown> = {}): RedisBackend {
  const b = createRedisBackend({ url: URL, options: { namespace, ...extra }, config });
  made.push(b);
  return b;
}

afterAll(async () => {
  try {
    await unlinkRedisKeys(URL, `simplebroker:${RUN}*`);
  } finally {
    for (const b of made) await b.close().catch(() => {});
  }
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

describeBackendContract({
  name: "redis",
  create: async () => {
    const b = open(`${RUN}_c${n++}`);
    await b.init();
    return b;
  },
  connectSame: async (b) => open((b as RedisBackend).namespace),
});

const FIXTURE = resolve(import.meta.dir, "../../fixtures/redis-reserve-fixture.ts");
const admin = () => {
  const c = new RedisClient(URL);
  return { c, [Symbol.dispose]: () => c.close() };
};

describe("redis backend", () => {
  test("cleanup deletes its own namespace only, and refuses a foreign one", async () => {
    const ns = `${RUN}_clean`;
    const b = open(ns);
    const other = open(`${ns}x`);
    expect(await b.cleanup!()).toBe(false);
    await b.write("q", ["1", "2"]);
    await other.write("q", ["keep"]);
    expect(await b.cleanup!()).toBe(true);
    expect(await b.listStats()).toEqual([]);
    expect((await other.peek("q", {}))[0]?.body).toBe("keep");

    using a = admin();
    const foreign = `${RUN}_foreign`;
    await a.c.send("HSET", [`simplebroker:${foreign}:meta`, "magic", "not-ours"]);
    await a.c.send("SET", [`simplebroker:${foreign}:data`, "x"]);
    const f = open(foreign);
    await expect(f.cleanup!()).rejects.toThrow(BackendError);
    await expect(f.cleanup!()).rejects.toThrow("is not a SimpleBroker namespace");
    await expect(f.write("q", ["x"])).rejects.toThrow("is not a SimpleBroker namespace");
    expect(await a.c.send("EXISTS", [`simplebroker:${foreign}:data`])).toBeTruthy();

    const bare = `${RUN}_bare`;
    await a.c.send("SET", [`simplebroker:${bare}:something`, "x"]);
    await expect(open(bare).cleanup!()).rejects.toThrow("no metadata");
  });

  test("a reservation abandoned by a killed consumer is delivered again after the stale timeout", async () => {
    const ns = `${RUN}_stale`;
    const b = open(ns, { reservation_timeout: 1 });
    await b.write("jobs", ["a", "b", "c", "d"]);
    const child = Bun.spawn([process.execPath, FIXTURE, URL, ns, "jobs", "3", "1"], { stdout: "pipe", stderr: "inherit" });
    const reader = child.stdout.getReader();
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      line += new TextDecoder().decode(value);
    }
    expect(line.trim()).toBe("reserved a,b,c");
    child.kill("SIGKILL");
    await child.exited;
    // In flight: not claimable yet, but still counted (as pending, like an open batch elsewhere).
    expect((await b.claim("jobs", { limit: 10 })).map((m) => m.body)).toEqual(["d"]);
    expect(await b.queueStats("jobs")).toMatchObject({ pending: 3, claimed: 1, total: 4 });
    await Bun.sleep(1200);
    expect((await b.claim("jobs", { limit: 10 })).map((m) => m.body)).toEqual(["a", "b", "c"]);
    expect(await b.queueStats("jobs")).toMatchObject({ pending: 0, claimed: 4, total: 4 });
  }, 20_000);

  test("a late commit of a stale reservation changes nothing; the messages stay deliverable", async () => {
    const b = open(`${RUN}_late`, { reservation_timeout: 0.2 });
    await b.write("q", ["x", "y"]);
    const r = await b.reserve("q", { limit: 5 }, "done");
    expect(r.messages.map((m) => m.body)).toEqual(["x", "y"]);
    await Bun.sleep(300);
    expect(await b.hasPending("q")).toBe(true);
    await r.commit();
    expect((await b.peek("q", { limit: 5 })).map((m) => m.body)).toEqual(["x", "y"]);
    expect((await b.queueStats("done")).total).toBe(0);
  });

  test("waitForActivity wakes on a write from another instance, times out, aborts, and survives a reconnect", async () => {
    const ns = `${RUN}_wake`;
    const watcher = open(ns);
    const writer = open(ns);
    // The first wait subscribes and resolves true at once: the caller must re-check.
    expect(await watcher.waitForActivity!(["jobs"], 1000)).toBe(true);
    const t0 = performance.now();
    expect(await watcher.waitForActivity!(["jobs"], 50)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);

    const woke = watcher.waitForActivity!(["jobs"], 5000);
    await writer.write("other", ["not for us"]);
    await writer.write("jobs", ["hello"]);
    expect(await woke).toBe(true);

    const viaBroadcast = watcher.waitForActivity!(["jobs"], 5000);
    await writer.broadcast("all");
    expect(await viaBroadcast).toBe(true);

    const ctl = new AbortController();
    const aborted = watcher.waitForActivity!(["jobs"], 5000, ctl.signal);
    ctl.abort();
    expect(await aborted).toBe(false);

    const moved = watcher.waitForActivity!(["dst"], 5000);
    await writer.move("jobs", "dst", {});
    expect(await moved).toBe(true);

    using a = admin();
    const lost = watcher.waitForActivity!(["jobs"], 10_000);
    const list = (await a.c.send("CLIENT", ["LIST", "TYPE", "pubsub"])) as string;
    const mine = list.split("\n").find((l) => l.includes(` name=${watcher.prefix}subscriber `));
    expect(mine).toBeDefined();
    await a.c.send("CLIENT", ["KILL", "ID", /\bid=(\d+)/.exec(mine!)![1]!]);
    expect(await lost).toBe(true);
    // Resubscribed: wakes again on the next write.
    while (await watcher.waitForActivity!(["jobs"], 20)) {}
    const again = watcher.waitForActivity!(["jobs"], 5000);
    await writer.write("jobs", ["after reconnect"]);
    expect(await again).toBe(true);
  }, 30_000);

  test("broadcast patterns select the same queues as the glob matcher (names matched by the client)", async () => {
    const b = open(`${RUN}_glob`);
    const broker = new Broker(b, resolveConfig());
    const names = ["jobs-1", "jobs-2", "jobs.a", "misc", "m1", "x_y", "Jobs-3", "a.b-c_d"];
    for (const q of names) await b.write(q, ["seed"]);
    const patterns = [
      "jobs-*",
      "j?bs-1",
      "[jm]*",
      "[!j]*",
      "*.a",
      "*[0-9]",
      "*",
      "?",
      "x_y",
      "[a-c].*",
      "*[!0-9]",
      "jobs[-.]*",
      "[",
      "[]",
      "[z-a]*",
      "[%-z]*",
    ];
    for (const p of patterns) {
      const want = names.filter((q) => globMatch(q, p)).length;
      expect([p, await broker.broadcast(`to ${p}`, p)]).toEqual([p, want]);
    }
  });

  test("ids stay strictly increasing across instances and follow the hybrid clock in the script", async () => {
    const ns = `${RUN}_ids`;
    const peers = [open(ns), open(ns), open(ns), open(ns)];
    const all = (
      await Promise.all(peers.map((p) => Promise.all(Array.from({ length: 25 }, () => p.write("q", ["m", "n"])))))
    ).flat(2);
    expect(new Set(all).size).toBe(200);
    const order = (await peers[0]!.peek("q", { limit: 1000 })).map((m) => m.ts);
    expect(order).toEqual([...all].sort((x, y) => (x < y ? -1 : 1)));
    expect(await peers[0]!.lastTimestamp()).toBe(order.at(-1)!);

    using a = admin();
    const meta = `simplebroker:${ns}:meta`;
    const future = ((BigInt(Date.now()) + 60_000n) * 1_000_000n) & ~0xfffn;
    await a.c.send("HSET", [meta, "last_ts", String(future | 0xffen)]);
    const [x, y] = await peers[1]!.write("q", ["x", "y"]);
    expect([x, y]).toEqual([future | 0xfffn, future + 0x1000n]);
    expect(await peers[2]!.generateTimestamp()).toBe(future + 0x1001n);
    await a.c.send("HSET", [meta, "last_ts", String((1n << 63n) - 1n)]);
    await expect(peers[3]!.write("q", ["z"])).rejects.toThrow("Timestamp too far in future");
  });

  test("status, displayTarget redaction, bad namespaces and an unreachable server", async () => {
    const b = open(`${RUN}_status`);
    expect(await b.status()).toEqual({ totalMessages: 0, lastTimestamp: 0n, dbSize: 0, persistence: expect.any(String) });
    const [id] = await b.write("q", ["x".repeat(1000)]);
    const st = await b.status();
    expect(st.totalMessages).toBe(1);
    expect(st.lastTimestamp).toBe(id!);
    expect(st.dbSize).toBeGreaterThan(1000);
    await b.close();
    await b.close();
    expect((await b.peek("q", {}))[0]?.ts).toBe(id!); // connects again after close, as SQLite reopens

    const secret = createRedisBackend({ url: "redis://user:hunter2@127.0.0.1:1/0", options: {}, config });
    expect(secret.displayTarget).toBe("redis://user:***@127.0.0.1:1/0");
    expect((secret as RedisBackend).namespace).toBe("simplebroker_redis_v1");
    const err = await secret.write("q", ["x"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(String((err as Error).message)).not.toContain("hunter2");
    expect(String((err as Error).message)).not.toContain("\n");
    await secret.close();
    await secret.close();

    expect(() => createRedisBackend({ url: URL, options: { namespace: "a:b" }, config })).toThrow("Invalid Redis namespace");
    expect(() => createRedisBackend({ url: URL, options: { namespace: "x*" }, config })).toThrow("Invalid Redis namespace");
  }, 30_000);

  test("a watcher on a Redis target is woken by pub/sub, well before its fallback poll", async () => {
    const ns = `${RUN}_watch`;
    const target: BrokerTarget = {
      backendName: "redis",
      target: URL,
      backendOptions: { namespace: ns },
      projectRoot: null,
      configPath: null,
      usedProjectScope: false,
      legacySqlitePathMode: false,
    };
    const writer = open(ns);
    await writer.write("inbox", ["before"]);
    const stop = new AbortController();
    const it = watchQueue("inbox", { target, signal: stop.signal })[Symbol.asyncIterator]();
    expect((await it.next()).value?.body).toBe("before");
    for (const body of ["one", "two", "three"]) {
      await Bun.sleep(50);
      const next = it.next();
      const t0 = performance.now();
      await writer.write("inbox", [body]);
      expect((await next).value?.body).toBe(body);
      expect(performance.now() - t0).toBeLessThan(500);
    }
    stop.abort();
    await it.return?.(undefined);
    expect((await writer.queueStats("inbox")).claimed).toBe(4);
  });

  test("the password comes from the URL or BROKER_BACKEND_PASSWORD and never shows", async () => {
    using a = admin();
    const user = `${RUN}_user`;
    const password = "pa:ss@w0rd/x";
    await a.c.send("ACL", ["SETUSER", user, "on", `>${password}`, "~simplebroker:*", "&*", "+@all"]);
    try {
      const host = URL.replace(/^redis:\/\/(?:[^@/]*@)?/, "");
      const ns = `${RUN}_acl`;
      const fromConfig = createRedisBackend({
        url: `redis://${user}@${host}`,
        options: { namespace: ns },
        config: resolveConfig({ backendPassword: password }),
      });
      made.push(fromConfig);
      expect(fromConfig.displayTarget).toBe(`redis://${user}@${host}`);
      expect((await fromConfig.write("q", ["x"])).length).toBe(1);
      const inUrl = createRedisBackend({
        url: `redis://${user}:${encodeURIComponent(password)}@${host}`,
        options: { namespace: ns },
        config,
      });
      made.push(inUrl);
      expect(inUrl.displayTarget).toBe(`redis://${user}:***@${host}`);
      expect((await inUrl.claim("q", {}))[0]?.body).toBe("x");
      const wrong = createRedisBackend({ url: `redis://${user}:wrong-secret@${host}`, options: { namespace: ns }, config });
      made.push(wrong);
      const err = (await wrong.peek("q", {}).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(BackendError);
      expect(err.message).toContain("WRONGPASS");
      expect(err.message).not.toContain("wrong-secret");
    } finally {
      await a.c.send("ACL", ["DELUSER", user]);
    }
  }, 30_000);
});
