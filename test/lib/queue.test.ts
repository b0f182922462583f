// The synchronous Queue of the public API (docs/compatibility.md#library): every method on an
// ephemeral handle, ids, filters, moves, deletes and metadata.
// Generators and delivery guarantees: queue-generators.test.ts.
// Persistent handles, config and auto-vacuum: queue-persistent.test.ts.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ArgumentError, BrokerError, MessageError, Queue, QueueNameError } from "../../index.ts";
import { tempDir } from "../helpers.ts";

/** A queue on a fresh database in a temporary directory. */
function fresh(name = "jobs"): { q: Queue; db: string } & Disposable {
  const dir = tempDir("sb-queue-");
  const db = join(dir.path, "test.db");
  const q = new Queue(name, { dbPath: db });
  return {
    q,
    db,
    [Symbol.dispose]: () => {
      q.close();
      dir[Symbol.dispose]();
    },
  };
}

const bodies = (ms: Array<{ body: string }>) => ms.map((m) => m.body);

describe("Queue write", () => {
  test("write returns a 19-digit bigint id, strictly increasing", () => {
    using t = fresh();
    const ids = [t.q.write("a"), t.q.write("b"), t.q.write("c")];
    for (const id of ids) {
      expect(typeof id).toBe("bigint");
      expect(String(id)).toMatch(/^\d{19}$/);
    }
    expect(ids[0]! < ids[1]! && ids[1]! < ids[2]!).toBe(true);
    expect(t.q.peekOne()).toEqual({ body: "a", ts: ids[0]! });
  });

  test("writeMany writes in one call and returns the ids in order", () => {
    using t = fresh();
    const ids = t.q.writeMany(["x", "y", "z"]);
    expect(ids).toHaveLength(3);
    expect(ids[0]! < ids[1]! && ids[1]! < ids[2]!).toBe(true);
    expect(t.q.peekMany(10)).toEqual([
      { body: "x", ts: ids[0]! },
      { body: "y", ts: ids[1]! },
      { body: "z", ts: ids[2]! },
    ]);
    expect(t.q.writeMany([])).toEqual([]);
  });

  test("writeAsync group-commits concurrent writes: ids resolve in order and are durable", async () => {
    using t = fresh();
    const input = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const ids = await Promise.all(input.map((b) => t.q.writeAsync(b)));
    expect(ids).toHaveLength(50);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    // Another handle (its own connection) sees every message, in the same order.
    using other = new Queue("jobs", { dbPath: t.db });
    expect(other.peekMany(100)).toEqual(input.map((body, i) => ({ body, ts: ids[i]! })));
  });

  test("writeAsync rejects an invalid queue name and an oversized body", async () => {
    using t = fresh();
    const bad = new Queue("-bad", { dbPath: t.db });
    await expect(bad.writeAsync("x")).rejects.toBeInstanceOf(QueueNameError);
    using small = new Queue("jobs", { dbPath: t.db, config: { maxMessageSize: 4 } });
    await expect(small.writeAsync("12345")).rejects.toBeInstanceOf(MessageError);
    expect(await small.writeAsync("1234")).toBeGreaterThan(0n);
  });

  test("write rejects invalid names (validated at the first operation) and oversized bodies", () => {
    using t = fresh();
    const bad = new Queue(".hidden", { dbPath: t.db }); // constructing does not validate
    expect(() => bad.write("x")).toThrow(QueueNameError);
    expect(() => bad.readOne()).toThrow(QueueNameError);
    using small = new Queue("jobs", { dbPath: t.db, config: { BROKER_MAX_MESSAGE_SIZE: 3 } });
    expect(() => small.write("abcd")).toThrow(MessageError);
    expect(() => small.write("é!")).not.toThrow(); // 3 UTF-8 bytes
  });

  test("bodies round-trip exactly", () => {
    using t = fresh();
    const input = ["", "héllo ✓ 日本 🎉", "a\0b", "line1\nline2\r\n", "x".repeat(70_000)];
    t.q.writeMany(input);
    expect(bodies(t.q.readMany(10))).toEqual(input);
  });
});

describe("Queue read", () => {
  test("readOne claims the oldest message; read is the same; null when empty", () => {
    using t = fresh();
    const [a, b] = t.q.writeMany(["a", "b"]);
    expect(t.q.readOne()).toEqual({ body: "a", ts: a! });
    expect(t.q.read()).toEqual({ body: "b", ts: b! });
    expect(t.q.readOne()).toBeNull();
    expect(t.q.read()).toBeNull();
  });

  test("readOne by exactId claims only that message", () => {
    using t = fresh();
    const [, b] = t.q.writeMany(["a", "b", "c"]);
    expect(t.q.readOne({ exactId: b! })).toEqual({ body: "b", ts: b! });
    expect(t.q.readOne({ exactId: b! })).toBeNull(); // already claimed
    expect(bodies(t.q.peekMany(10))).toEqual(["a", "c"]);
  });

  test("readMany claims up to limit in order; limit < 1 is an error", () => {
    using t = fresh();
    t.q.writeMany(["1", "2", "3", "4", "5"]);
    expect(bodies(t.q.readMany(3))).toEqual(["1", "2", "3"]);
    expect(bodies(t.q.readMany(10))).toEqual(["4", "5"]);
    expect(t.q.readMany(10)).toEqual([]);
    expect(() => t.q.readMany(0)).toThrow("limit must be at least 1");
    expect(() => t.q.readMany(1.5)).toThrow(ArgumentError);
  });

  test("after/before are strict bounds", () => {
    using t = fresh();
    const ids = t.q.writeMany(["1", "2", "3", "4", "5"]);
    expect(bodies(t.q.peekMany(10, { after: ids[1]! }))).toEqual(["3", "4", "5"]);
    expect(bodies(t.q.peekMany(10, { before: ids[1]! }))).toEqual(["1"]);
    expect(bodies(t.q.peekMany(10, { after: ids[0]!, before: ids[4]! }))).toEqual(["2", "3", "4"]);
    expect(t.q.readOne({ after: ids[2]! })?.body).toBe("4");
    expect(bodies(t.q.readMany(10, { before: ids[2]! }))).toEqual(["1", "2"]);
    expect(bodies(t.q.readMany(10))).toEqual(["3", "5"]);
  });
});

describe("Queue peek", () => {
  test("peekOne/peek/peekMany never change state", () => {
    using t = fresh();
    const ids = t.q.writeMany(["a", "b", "c"]);
    expect(t.q.peekOne()).toEqual({ body: "a", ts: ids[0]! });
    expect(t.q.peek()).toEqual({ body: "a", ts: ids[0]! });
    expect(t.q.peekOne({ exactId: ids[2]! })?.body).toBe("c");
    expect(bodies(t.q.peekMany(2))).toEqual(["a", "b"]);
    expect(bodies(t.q.peekMany())).toEqual(["a", "b", "c"]);
    expect(t.q.stats()).toMatchObject({ pending: 3, claimed: 0 });
    expect(() => t.q.peekMany(0)).toThrow("limit must be at least 1");
  });

  test("claimed messages are invisible to peeks", () => {
    using t = fresh();
    t.q.writeMany(["a", "b"]);
    t.q.readOne();
    expect(bodies(t.q.peekMany())).toEqual(["b"]);
  });

  test("peekGenerator pages through everything without claiming", () => {
    using t = fresh();
    const input = Array.from({ length: 7 }, (_, i) => String(i));
    const ids = t.q.writeMany(input);
    expect(bodies([...t.q.peekGenerator({ pageSize: 3 })])).toEqual(input);
    expect(bodies([...t.q.peekGenerator({ after: ids[4]! })])).toEqual(["5", "6"]);
    expect(bodies([...t.q.peekGenerator({ exactId: ids[3]! })])).toEqual(["3"]);
    expect(t.q.stats().pending).toBe(7);
  });
});

describe("Queue move", () => {
  test("moveOne moves the oldest message keeping its id; destination may be a Queue", () => {
    using t = fresh();
    const [a, b] = t.q.writeMany(["a", "b"]);
    using done = new Queue("done", { dbPath: t.db });
    expect(t.q.moveOne("done")).toEqual({ body: "a", ts: a! });
    expect(t.q.move(done)).toEqual({ body: "b", ts: b! });
    expect(t.q.moveOne("done")).toBeNull();
    expect(done.peekMany()).toEqual([
      { body: "a", ts: a! },
      { body: "b", ts: b! },
    ]);
  });

  test("move to the same queue is an error (name or Queue)", () => {
    using t = fresh();
    t.q.write("a");
    expect(() => t.q.moveOne("jobs")).toThrow("Source and destination queues cannot be the same");
    expect(() => t.q.moveMany(t.q, 5)).toThrow(ArgumentError);
    expect(() => t.q.moveGenerator("jobs").next()).toThrow("Source and destination queues cannot be the same");
    expect(() => t.q.moveOne("bad name")).toThrow(QueueNameError);
    expect(t.q.stats().pending).toBe(1);
  });

  test("moveMany moves up to limit with filters", () => {
    using t = fresh();
    const ids = t.q.writeMany(["1", "2", "3", "4"]);
    expect(bodies(t.q.moveMany("other", 2, { after: ids[0]! }))).toEqual(["2", "3"]);
    using other = new Queue("other", { dbPath: t.db });
    expect(bodies(other.peekMany())).toEqual(["2", "3"]);
    expect(bodies(t.q.peekMany())).toEqual(["1", "4"]);
    expect(() => t.q.moveMany("other", 0)).toThrow("limit must be at least 1");
  });

  test("moveOne by exactId revives a claimed message unless requireUnclaimed", () => {
    using t = fresh();
    const [a] = t.q.writeMany(["a", "b"]);
    t.q.readOne(); // claims a
    expect(t.q.moveOne("dead", { exactId: a!, requireUnclaimed: true })).toBeNull();
    expect(t.q.moveOne("dead", { exactId: a! })).toEqual({ body: "a", ts: a! });
    using dead = new Queue("dead", { dbPath: t.db });
    expect(dead.stats()).toMatchObject({ pending: 1, claimed: 0 });
    expect(t.q.stats()).toMatchObject({ pending: 1, claimed: 0, total: 1 });
  });

  test("moveGenerator moves everything, one message at a time", () => {
    using t = fresh();
    t.q.writeMany(["a", "b", "c"]);
    expect(bodies([...t.q.moveGenerator("next")])).toEqual(["a", "b", "c"]);
    using next = new Queue("next", { dbPath: t.db });
    expect(next.stats().pending).toBe(3);
    expect(t.q.exists()).toBe(false);
  });
});

describe("Queue delete and metadata", () => {
  test("delete() removes every row of the queue, claimed ones too", () => {
    using t = fresh();
    t.q.writeMany(["a", "b"]);
    t.q.readOne();
    using other = new Queue("other", { dbPath: t.db });
    other.write("keep");
    expect(t.q.delete()).toBe(true);
    expect(t.q.exists()).toBe(false);
    expect(t.q.delete()).toBe(false);
    expect(other.stats().total).toBe(1);
  });

  test("delete({ messageId }) claims that one pending message", () => {
    using t = fresh();
    const [a, b] = t.q.writeMany(["a", "b"]);
    expect(t.q.delete({ messageId: b! })).toBe(true);
    expect(t.q.delete({ messageId: b! })).toBe(false);
    expect(t.q.delete({ messageId: 1234567890123456789n })).toBe(false);
    expect(t.q.peekMany()).toEqual([{ body: "a", ts: a! }]);
    expect(t.q.stats()).toEqual({ queue: "jobs", pending: 1, claimed: 1, total: 2, exists: true });
  });

  test("exists, stats and hasPending follow the lifecycle", () => {
    using t = fresh();
    expect(t.q.exists()).toBe(false);
    expect(t.q.stats()).toEqual({ queue: "jobs", pending: 0, claimed: 0, total: 0, exists: false });
    expect(t.q.hasPending()).toBe(false);
    const [a, b] = t.q.writeMany(["a", "b"]);
    expect(t.q.hasPending()).toBe(true);
    expect(t.q.hasPending(a!)).toBe(true);
    expect(t.q.hasPending(b!)).toBe(false);
    t.q.readMany(2);
    // Claimed rows: the queue still exists, but nothing is pending.
    expect(t.q.exists()).toBe(true);
    expect(t.q.hasPending()).toBe(false);
    expect(t.q.stats()).toEqual({ queue: "jobs", pending: 0, claimed: 2, total: 2, exists: true });
  });

  test("generateTimestamp allocates an id without writing; lastTs tracks it", () => {
    using t = fresh();
    const w = t.q.write("a");
    expect(t.q.lastTs).toBe(w);
    const g = t.q.generateTimestamp();
    expect(g > w).toBe(true);
    expect(String(g)).toMatch(/^\d{19}$/);
    expect(t.q.lastTs).toBe(g);
    expect(t.q.stats().total).toBe(1);
    expect(t.q.write("b") > g).toBe(true);
  });

  test("lastTs is cached; refreshLastTs re-reads the database", () => {
    using t = fresh();
    const first = t.q.write("a");
    using other = new Queue("other", { dbPath: t.db });
    const later = other.write("b");
    expect(t.q.lastTs).toBe(first);
    expect(t.q.refreshLastTs()).toBe(later);
    expect(t.q.lastTs).toBe(later);
    // A fresh handle fetches it lazily.
    using third = new Queue("third", { dbPath: t.db });
    expect(third.lastTs).toBe(later);
  });

  test("dataVersion is a bigint", () => {
    using t = fresh();
    t.q.write("a");
    expect(typeof t.q.dataVersion()).toBe("bigint");
  });
});

describe("Queue lifecycle", () => {
  test("close is idempotent and later operations fail", () => {
    using t = fresh();
    const q = new Queue("jobs", { dbPath: t.db });
    q.write("a");
    q.close();
    q.close();
    expect(() => q.write("b")).toThrow(BrokerError);
    expect(() => q.readOne()).toThrow("closed");
  });

  test("using closes the handle at the end of the block", () => {
    using t = fresh();
    let escaped: Queue;
    {
      using q = new Queue("jobs", { dbPath: t.db });
      escaped = q;
      q.write("a");
    }
    expect(() => escaped.peekOne()).toThrow("closed");
    expect(t.q.peekOne()?.body).toBe("a");
  });

  test("name, dbPath, toString; a directory resolves to its .broker.db", () => {
    using d = tempDir("sb-queue-");
    using q = new Queue("jobs", { dbPath: d.path });
    expect(q.name).toBe("jobs");
    expect(String(q)).toBe("jobs");
    expect(q.dbPath).toBe(join(d.path, ".broker.db"));
    q.write("a");
    using again = new Queue("jobs", { dbPath: join(d.path, ".broker.db") });
    expect(again.readOne()?.body).toBe("a");
  });
});
