// A vacuum lock whose owner process is gone is taken over at once (issue 19, items 7 and 8), here
// on Redis, whose lock key otherwise lives for BROKER_VACUUM_LOCK_TIMEOUT; a live owner is respected.
// The SQLite lock file is covered through the CLI in test/cli/vacuum-lock.test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { hostname } from "node:os";
import { ownerRecord } from "../../../lib/backends/_owner.ts";
import { createRedisBackend } from "../../../lib/backends/redis/index.ts";
import { resolveConfig } from "../../../lib/target/config.ts";
import { uniqueName } from "../../helpers.ts";

const REDIS_URL = process.env.BROKER_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";

describe("redis vacuum lock", () => {
  const namespace = uniqueName("sb_vlock");
  const lock = `simplebroker:${namespace}:vacuum_lock`;
  const admin = new RedisClient(REDIS_URL);
  const b = createRedisBackend({ url: REDIS_URL, options: { namespace }, config: resolveConfig() });
  afterAll(async () => {
    await b.cleanup();
    await b.close();
    admin.close();
  });

  test("a dead owner's lock is taken over; a live owner's lock makes the vacuum skip", async () => {
    await b.write("q", ["a", "b"]);
    await b.claim("q", { limit: 2 });
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    await admin.send("SET", [lock, `${dead.pid}\n\n${hostname()}\nsome-uuid`, "PX", "300000"]);
    expect(await b.vacuum()).toEqual({ vacuumed: 2, ran: true });
    expect(await admin.send("EXISTS", [lock])).toBe(0);

    await b.write("q", ["c"]);
    await b.claim("q", {});
    await admin.send("SET", [lock, `${ownerRecord()}another-uuid`, "PX", "300000"]);
    expect(await b.vacuum()).toEqual({ vacuumed: 0, ran: false });
    expect(await admin.send("EXISTS", [lock])).toBe(1);
    await admin.send("DEL", [lock]);
  });
});
