// Leases and delays on the Redis backend against a live server (BROKER_TEST_REDIS_URL,
// default redis://127.0.0.1:6379/0): the shared lease contract, the cases of lease-cases.ts,
// and what only Redis has (its keys, cleanup, rename).
import { afterAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { createRedisBackend, type RedisBackend } from "../../../lib/backends/redis/index.ts";
import type { Backend } from "../../../lib/core/types.ts";
import { resolveConfig } from "../../../lib/target/config.ts";
import { describeLeaseContract } from "../../../lib/testing.ts";
import { uniqueName } from "../../helpers.ts";
import { redisUrl, unlinkRedisKeys } from "../../services.ts";
import { describeLeaseCases } from "./lease-cases.ts";

const URL = await redisUrl();
const RUN = uniqueName("test_redis_leases");
const config = resolveConfig({});
const made: RedisBackend[] = [];
let n = 0;

function open(namespace = `${RUN}_${n++}`): RedisBackend {
  const b = createRedisBackend({ url: URL, options: { namespace }, config });
  made.push(b);
  return b;
}

const fresh = async (): Promise<Backend> => {
  const b = open();
  await b.init();
  return b;
};

afterAll(async () => {
  try {
    await unlinkRedisKeys(URL, `simplebroker:${RUN}*`);
  } finally {
    for (const b of made) await b.close().catch(() => {});
  }
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

describeLeaseContract({ name: "redis", create: fresh, connectSame: async (b) => open((b as RedisBackend).namespace) });

describe("redis leases", () => {
  describeLeaseCases({ fresh, peer: async (b) => open((b as RedisBackend).namespace) });

  test("held messages keep their keys in the layout: cleanup deletes them, rename carries them", async () => {
    const b = open();
    const ids = await b.write("q", ["a", "b"]);
    const [m] = await b.lease!("q", { leaseMs: 60_000 });
    await b.writeDelayed!("q", ["later"], { delayMs: 60_000 });
    expect(await b.rename!("q", "r", false)).toEqual({ messages: 3, aliases: 0 });
    expect(await b.ack!("q", [ids[0]!], m!.token)).toEqual([]);
    expect(await b.heldStats!()).toEqual([{ queue: "r", leased: 1, scheduled: 1 }]);
    expect(await b.ack!("r", [ids[0]!], m!.token)).toEqual([ids[0]!]);
    const admin = new RedisClient(URL);
    try {
      const keys = ((await admin.send("KEYS", [`${b.prefix}*`])) as string[]).map((k) => k.slice(b.prefix.length)).sort();
      expect(keys).toEqual(["bodies", "heldq", "meta", "q:r:held", "q:r:pending", "queues"]);
      expect(await b.cleanup()).toBe(true);
      expect(await admin.send("KEYS", [`${b.prefix}*`])).toEqual([]);
    } finally {
      admin.close();
    }
  });

  test("vacuum forgets the attempts of messages that were read", async () => {
    const b = open();
    const [id] = await b.write("q", ["a"]);
    await b.lease!("q", { leaseMs: 60_000 });
    await b.release!("q", [id!]);
    const admin = new RedisClient(URL);
    try {
      expect(await admin.send("HLEN", [`${b.prefix}attempts`])).toBe(1);
      await b.claim("q", {});
      await b.vacuum();
      expect(await admin.send("HLEN", [`${b.prefix}attempts`])).toBe(0);
    } finally {
      admin.close();
    }
  });
});
