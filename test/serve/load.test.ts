// Exactly-once under concurrent HTTP load: 20 clients send 1,000 requests,
// half writes and half claims on one queue, to a real `broker serve` (whose
// handler folds concurrent writes and claims into shared transactions);
// after draining, every written message must have been read exactly once
// with its body, and no request may have failed. bench/serve.ts is the
// full-size run with latency percentiles (npm run bench:serve).
import { describe, expect, test } from "bun:test";
import { runLoad } from "../../bench/serve.ts";
import { type Place, POSTGRES_URL, postgresPlace, REDIS_URL, redisPlace, sqlitePlace, startServe } from "./_server.ts";

async function check(makePlace: () => Place): Promise<void> {
  await using place = makePlace();
  await using server = await startServe(place);
  const r = await runLoad(server.url, 20, 1000);
  expect(r.errors).toEqual([]);
  expect(r.requests).toBe(1000);
  expect(r.written).toBeGreaterThan(400);
  expect({ read: r.read, duplicates: r.duplicates, missing: r.missing, wrongBodies: r.wrongBodies }).toEqual({
    read: r.written,
    duplicates: 0,
    missing: 0,
    wrongBodies: 0,
  });
}

describe("20 clients, 1,000 mixed requests: every written message read exactly once", () => {
  test("SQLite", () => check(sqlitePlace), 60_000);
  test.skipIf(!POSTGRES_URL)("PostgreSQL", () => check(postgresPlace), 60_000);
  test.skipIf(!REDIS_URL)("Redis", () => check(redisPlace), 60_000);
});
