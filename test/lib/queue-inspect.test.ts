// findMessageIds, deleteMany and latestPendingTimestamp on the synchronous Queue
// (ephemeral and persistent handles) and on AsyncQueue, one table of cases run
// against each, so the two classes cannot drift apart. All on real SQLite files.
import { afterAll, describe, expect, test } from "bun:test";
import { ArgumentError, openBroker, Queue, QueueNameError, type Broker, type Message } from "../../index.ts";
import { tempDir, uniqueName } from "../helpers.ts";

const dir = tempDir();
const closers: Array<() => unknown> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  dir[Symbol.dispose]();
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

type Find = { bodyContains?: string; after?: bigint; before?: bigint; limit?: number };

/** The calls the cases make, every one returning a promise (a sync throw becomes a rejection). */
interface Subject {
  write(bodies: string[]): Promise<bigint[]>;
  writeDelayed(body: string, delayMs: number): Promise<bigint>;
  readOne(): Promise<Message | null>;
  leaseOne(): Promise<Message | null>;
  peekOne(options?: { includeClaimed?: boolean }): Promise<Message | null>;
  pending(): Promise<number>;
  findMessageIds(options?: Find): Promise<bigint[]>;
  deleteMany(ids: Iterable<bigint>): Promise<number>;
  latestPendingTimestamp(): Promise<bigint | undefined>;
}

/** A `Subject` on queue `name` of a fresh database; `other` is a second queue of the same database. */
type Open = (name: string) => Promise<{ q: Subject; other: Subject }>;

/** The message a lease holds (left unsettled: it stays leased for the test). */
const held = (lease: { body: string; ts: bigint } | null): Message | null => lease && { body: lease.body, ts: lease.ts };

function syncSubject(q: Queue): Subject {
  closers.push(() => q.close());
  return {
    write: async (bodies) => q.writeMany(bodies),
    writeDelayed: async (body, delayMs) => q.write(body, { delayMs }),
    readOne: async () => q.readOne(),
    leaseOne: async () => held(q.lease({ ms: 60_000 })),
    peekOne: async (options) => q.peekOne(options),
    pending: async () => q.stats().pending,
    findMessageIds: async (options) => q.findMessageIds(options),
    deleteMany: async (ids) => q.deleteMany(ids),
    latestPendingTimestamp: async () => q.latestPendingTimestamp(),
  };
}

function asyncSubject(broker: Broker, name: string): Subject {
  const q = broker.queue(name);
  return {
    write: (bodies) => q.writeMany(bodies),
    writeDelayed: (body, delayMs) => q.write(body, { delayMs }),
    readOne: () => q.readOne(),
    leaseOne: async () => held(await q.lease({ ms: 60_000 })),
    peekOne: (options) => q.peekOne(options),
    pending: async () => (await q.stats()).pending,
    findMessageIds: (options) => q.findMessageIds(options),
    deleteMany: (ids) => q.deleteMany(ids),
    latestPendingTimestamp: () => q.latestPendingTimestamp(),
  };
}

const subjects: Record<string, Open> = {
  "Queue (a connection per call)": async (name) => {
    const dbPath = `${dir.path}/${uniqueName("eph")}.db`;
    return { q: syncSubject(new Queue(name, { dbPath })), other: syncSubject(new Queue("other", { dbPath })) };
  },
  "Queue (persistent)": async (name) => {
    const dbPath = `${dir.path}/${uniqueName("per")}.db`;
    const open = (n: string) => syncSubject(new Queue(n, { dbPath, persistent: true }));
    return { q: open(name), other: open("other") };
  },
  AsyncQueue: async (name) => {
    const broker = await openBroker(`${dir.path}/${uniqueName("async")}.db`);
    closers.push(() => broker.close());
    return { q: asyncSubject(broker, name), other: asyncSubject(broker, "other") };
  },
};

/** 2500 messages (three peek pages of the walks), alternating "even i" / "odd i". */
const bodies = Array.from({ length: 2500 }, (_, i) => (i % 2 ? `odd ${i}` : `even ${i}`));

for (const [label, open] of Object.entries(subjects)) {
  describe(`${label}: inspection calls`, () => {
    test("an empty queue: no ids, no latest id, nothing deleted", async () => {
      const { q } = await open("jobs");
      expect(await q.findMessageIds()).toEqual([]);
      expect(await q.findMessageIds({ bodyContains: "x", limit: 5 })).toEqual([]);
      expect(await q.latestPendingTimestamp()).toBeUndefined();
      expect(await q.deleteMany([])).toBe(0);
      expect(await q.deleteMany([42n])).toBe(0);
    });

    test("findMessageIds filters by body, after, before and limit across pages, oldest first", async () => {
      const { q } = await open("jobs");
      const ids = await q.write(bodies);
      expect(await q.findMessageIds()).toEqual(ids);
      const odd = await q.findMessageIds({ bodyContains: "odd" });
      expect(odd).toEqual(ids.filter((_, i) => i % 2));
      expect(await q.findMessageIds({ bodyContains: "even", after: ids[9], before: ids[20], limit: 3 })).toEqual([
        ids[10]!,
        ids[12]!,
        ids[14]!,
      ]);
      // A limit that ends on the next page, and an `after` in the middle of one.
      expect(await q.findMessageIds({ after: ids[995], limit: 10 })).toEqual(ids.slice(996, 1006));
      expect(await q.findMessageIds({ bodyContains: "odd", after: ids[1998] })).toEqual(
        ids.slice(1999).filter((_, i) => i % 2 === 0),
      );
      expect(await q.findMessageIds({ before: ids[3] })).toEqual(ids.slice(0, 3));
      expect(await q.findMessageIds({ after: ids[2499] })).toEqual([]);
      expect(await q.findMessageIds({ after: ids[5], before: ids[6] })).toEqual([]);
      expect(await q.findMessageIds({ limit: 0 })).toEqual([]);
      expect(await q.findMessageIds({ limit: 2.5 })).toEqual(ids.slice(0, 3));
      expect(await q.findMessageIds({ bodyContains: "" })).toEqual(ids);
      expect(await q.findMessageIds({ bodyContains: "ODD" })).toEqual([]);
      expect(await q.findMessageIds({ bodyContains: "odd 2499" })).toEqual([ids[2499]!]);
    }, 60_000);

    test("bodyContains is literal text: no LIKE or glob wildcards", async () => {
      const { q } = await open("jobs");
      const [plain, percent, under, star] = await q.write(["abc", "50% off", "snake_case", "a*b"]);
      expect(await q.findMessageIds({ bodyContains: "%" })).toEqual([percent!]);
      expect(await q.findMessageIds({ bodyContains: "_" })).toEqual([under!]);
      expect(await q.findMessageIds({ bodyContains: "*" })).toEqual([star!]);
      expect(await q.findMessageIds({ bodyContains: "ab" })).toEqual([plain!]);
      expect(await q.findMessageIds({ bodyContains: "a*" })).toEqual([star!]);
    });

    test("deleteMany claims pending ids once each and ignores unknown, repeated, claimed and foreign ids", async () => {
      const { q, other } = await open("jobs");
      const ids = await q.write(bodies);
      const [foreign] = await other.write(["elsewhere"]);
      expect(await q.latestPendingTimestamp()).toBe(ids[2499]);
      expect(await q.deleteMany([ids[2499]!, ids[0]!, ids[0]!, 42n, foreign!])).toBe(2);
      expect(await other.pending()).toBe(1);
      expect(await q.latestPendingTimestamp()).toBe(ids[2498]);
      expect((await q.peekOne({ includeClaimed: true }))?.ts).toBe(ids[0]);
      expect((await q.peekOne())?.ts).toBe(ids[1]);
      expect(await q.deleteMany([ids[0]!])).toBe(0);
      expect((await q.readOne())?.ts).toBe(ids[1]);
      expect(await q.deleteMany(new Set([ids[1]!]))).toBe(0);
      expect(await q.findMessageIds({ limit: 1 })).toEqual([ids[2]!]);
      const odd = await q.findMessageIds({ bodyContains: "odd" });
      expect(odd).toEqual(ids.filter((_, i) => i % 2 && i !== 1 && i !== 2499));
      function* twice() {
        yield* odd;
        yield* odd;
      }
      expect(await q.deleteMany(twice())).toBe(odd.length);
      expect(await q.pending()).toBe(1249);
      expect(await q.findMessageIds({ bodyContains: "odd" })).toEqual([]);
    }, 60_000);

    test("leased and delayed messages are not pending: not found, not latest, not deleted", async () => {
      const { q } = await open("jobs");
      const [first, second] = await q.write(["one", "two"]);
      const delayed = await q.writeDelayed("three", 60_000);
      expect(await q.latestPendingTimestamp()).toBe(second);
      expect((await q.leaseOne())?.ts).toBe(first);
      expect(await q.findMessageIds()).toEqual([second!]);
      expect(await q.deleteMany([first!, delayed])).toBe(0);
      expect(await q.deleteMany([second!])).toBe(1);
      expect(await q.latestPendingTimestamp()).toBeUndefined();
      expect(await q.findMessageIds()).toEqual([]);
    });

    test("validation: the queue name first, then the limit, with the same errors", async () => {
      const { q } = await open("bad name");
      await expect(q.findMessageIds({ limit: -1 })).rejects.toThrow(QueueNameError);
      await expect(q.findMessageIds()).rejects.toThrow("Invalid queue name");
      await expect(q.deleteMany([])).rejects.toThrow(QueueNameError);
      await expect(q.latestPendingTimestamp()).rejects.toThrow(QueueNameError);
      const { q: good } = await open("jobs");
      for (const limit of [-1, -0.5, Number.NaN]) {
        await expect(good.findMessageIds({ limit })).rejects.toThrow(ArgumentError);
        await expect(good.findMessageIds({ limit })).rejects.toThrow("limit must be zero or more");
      }
    });
  });
}

test("Queue.peek takes includeClaimed like peekOne", () => {
  using q = new Queue("sync", { dbPath: `${dir.path}/${uniqueName("peek")}.db` });
  const [first] = q.writeMany(["1", "2"]);
  q.readOne();
  expect(q.peek()?.body).toBe("2");
  expect(q.peek({ includeClaimed: true })?.ts).toBe(first);
});
