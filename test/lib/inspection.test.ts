// The library side of the post-3.6.1 additions, through openBroker on every backend:
// Broker.rename, broadcast to named queues, includeClaimed peeks, findMessageIds,
// deleteMany and latestPendingTimestamp (Broker and AsyncQueue).
import { afterAll, describe, expect, test } from "bun:test";
import { openBroker, Queue, type Broker } from "../../index.ts";
import { tempDir, uniqueName } from "../helpers.ts";
import { postgresUrl, redisUrl, storeTarget } from "../services.ts";

const dir = tempDir();
const backends: Record<string, () => Promise<Broker>> = {
  sqlite: () => openBroker(`${dir.path}/${uniqueName("lib")}.db`),
  postgres: async () => openBroker(storeTarget("postgres", await postgresUrl(), uniqueName("lib13").toLowerCase())),
  redis: async () => openBroker(storeTarget("redis", await redisUrl(), uniqueName("lib13"))),
};
const opened: Broker[] = [];
afterAll(async () => {
  for (const b of opened) await b.cleanup().catch(() => false);
  for (const b of opened) await b.close().catch(() => {});
  dir[Symbol.dispose]();
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

for (const [name, open] of Object.entries(backends)) {
  describe(`library additions on ${name}`, () => {
    const fresh = async () => {
      const b = await open();
      await b.init();
      opened.push(b);
      return b;
    };

    test("rename moves pending and claimed rows, resolves an @alias and follows aliases unless told not to", async () => {
      const b = await fresh();
      await b.write("a", ["1", "2"]);
      await b.read("a");
      await b.addAlias("al", "a");
      await expect(b.rename("a", "a")).rejects.toThrow("Source and target queues cannot be the same");
      await expect(b.rename("a", "bad name")).rejects.toThrow("Invalid queue name");
      expect(await b.rename("@al", "b")).toEqual({ messages: 2, aliases: 1 });
      expect((await b.queue("@al").peekMany(10, { includeClaimed: true })).map((m) => m.body)).toEqual(["1", "2"]);
      expect(await b.rename("b", "c", { retargetAliases: false })).toEqual({ messages: 2, aliases: 0 });
      expect(await b.resolveQueue("@al")).toBe("b");
      expect(await b.rename("nothing", "here")).toEqual({ messages: 0, aliases: 0 });
    });

    test("broadcast with { queues } writes once to each named queue that exists, ids in the order given", async () => {
      const b = await fresh();
      await b.write("x", "0");
      await b.write("y", "0");
      expect(await b.broadcast("hi", { queues: ["y", "nope", "x"] })).toBe(2);
      const [y] = await b.findMessageIds("y", { bodyContains: "hi" });
      const [x] = await b.findMessageIds("x", { bodyContains: "hi" });
      expect(y! < x!).toBe(true);
      expect(await b.broadcast("hi", { queues: ["nope"] })).toBe(0);
      await expect(b.broadcast("hi", { queues: ["@x"] })).rejects.toThrow();
    });

    test("findMessageIds, deleteMany and latestPendingTimestamp on Broker and AsyncQueue", async () => {
      const b = await fresh();
      const q = b.queue("jobs");
      expect(await q.latestPendingTimestamp()).toBeUndefined();
      const ids = await b.write(
        "jobs",
        Array.from({ length: 2500 }, (_, i) => (i % 2 ? `odd ${i}` : `even ${i}`)),
      );
      expect(await q.latestPendingTimestamp()).toBe(ids[2499]);
      const odd = await q.findMessageIds({ bodyContains: "odd" });
      expect(odd).toEqual(ids.filter((_, i) => i % 2));
      expect(await b.findMessageIds("jobs", { bodyContains: "even", after: ids[9], before: ids[20], limit: 3 })).toEqual([
        ids[10]!,
        ids[12]!,
        ids[14]!,
      ]);
      expect(await q.deleteMany([ids[2499]!, ids[0]!, ids[0]!, 42n])).toBe(2);
      expect(await b.latestPendingTimestamp("jobs")).toBe(ids[2498]);
      expect((await q.peekOne({ includeClaimed: true }))?.ts).toBe(ids[0]);
      expect((await q.peekOne())?.ts).toBe(ids[1]);
      expect(await b.deleteMany("jobs", odd)).toBe(odd.length - 1);
      expect((await b.queueStats("jobs")).pending).toBe(1249);
    }, 60_000);
  });
}

test("the synchronous Queue peeks claimed messages with includeClaimed", () => {
  using q = new Queue("sync", { dbPath: `${dir.path}/${uniqueName("sync")}.db` });
  const ids = q.writeMany(["1", "2", "3"]);
  q.readOne();
  expect(q.peekMany(10).map((m) => m.body)).toEqual(["2", "3"]);
  expect(q.peekMany(10, { includeClaimed: true }).map((m) => m.ts)).toEqual(ids);
  expect(q.peekOne({ includeClaimed: true })?.body).toBe("1");
  expect(q.peekOne({ exactId: ids[0], includeClaimed: true })?.body).toBe("1");
  expect(q.peekOne({ exactId: ids[0] })).toBeNull();
});
