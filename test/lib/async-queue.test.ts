/**
 * AsyncQueue (broker.queue(name)) is the library face of every backend: the
 * same calls must behave the same on SQLite, PostgreSQL and Redis.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openBroker, type Broker } from "../../index.ts";
import { tempDir, uniqueName } from "../helpers.ts";
import { postgresUrl, redisUrl, storeTarget } from "../services.ts";

const dir = tempDir("sb-aq-");
const PG = await postgresUrl();
const REDIS = await redisUrl();

const backends: Array<[string, () => Promise<Broker>]> = [
  ["sqlite", () => openBroker(join(dir.path, `${uniqueName("aq")}.db`))],
  ["postgres", () => openBroker(storeTarget("postgres", PG, uniqueName("sb_aq")))],
  ["redis", () => openBroker(storeTarget("redis", REDIS, uniqueName("sb_aq")))],
];

const opened: Broker[] = [];
afterAll(async () => {
  for (const b of opened) {
    await b.backend.cleanup?.().catch(() => {});
    await b.close().catch(() => {});
  }
  dir[Symbol.dispose]();
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

for (const [name, open] of backends) {
  describe(`AsyncQueue on ${name}`, () => {
    const fresh = async () => {
      const b = await open();
      opened.push(b);
      return b;
    };

    test("write, read, peek, move and stats", async () => {
      const b = await fresh();
      const q = b.queue("jobs");
      const id = await q.write("one");
      expect(typeof id).toBe("bigint");
      const ids = await q.writeMany(["two", "three", "four"]);
      expect(ids[0]! > id).toBe(true);
      expect((await q.peekOne())?.body).toBe("one");
      expect((await q.readOne())?.body).toBe("one");
      expect((await q.readMany(2)).map((m) => m.body)).toEqual(["two", "three"]);
      expect((await q.moveOne("done"))?.body).toBe("four");
      expect(await q.readOne()).toBeNull();
      expect(await q.stats()).toEqual({ queue: "jobs", pending: 0, claimed: 3, total: 3, exists: true });
      expect(await b.queue("done").hasPending()).toBe(true);
      expect(await b.queue("done").delete()).toBe(true);
      expect(await b.queue("done").exists()).toBe(false);
    }, 30_000);

    test("at-least-once generator stopped after 2 of 5 leaves 5 pending; exactly-once leaves 3", async () => {
      const b = await fresh();
      const q = b.queue("g");
      await q.writeMany(["1", "2", "3", "4", "5"]);
      let n = 0;
      for await (const _ of q.readGenerator({ deliveryGuarantee: "at-least-once" })) if (++n === 2) break;
      expect((await q.stats()).pending).toBe(5);
      n = 0;
      for await (const _ of q.readGenerator()) if (++n === 2) break;
      expect((await q.stats()).pending).toBe(3);
      const rest = [];
      for await (const m of q.readGenerator({ deliveryGuarantee: "at-least-once", batchSize: 2 })) rest.push(m.body);
      expect(rest).toEqual(["3", "4", "5"]);
      expect((await q.stats()).pending).toBe(0);
    }, 30_000);

    test("watch receives a message written after it started", async () => {
      const b = await fresh();
      const writer = await openBroker(b.target!);
      opened.push(writer);
      const stop = new AbortController();
      const got = (async () => {
        for await (const m of b.queue("w").watch({ signal: stop.signal })) return m.body;
      })();
      await writer.queue("w").write("hello");
      expect(await got).toBe("hello");
      stop.abort();
      expect(await b.queue("w").stats()).toMatchObject({ pending: 0, claimed: 1 });
    }, 30_000);
  });
}
