// Generators and delivery guarantees of Queue (docs/compatibility.md#delivery): exactly-once
// commits each message before yielding it; at-least-once keeps a batch in one
// open transaction and rolls it all back when iteration stops early.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BrokerError, Queue } from "../../index.ts";
import { tempDir } from "../helpers.ts";

/** A fresh database with five messages in `jobs`; `observer` is a separate connection. */
function fiveMessages(options: { persistent?: boolean } = {}) {
  const dir = tempDir("sb-gen-");
  const db = join(dir.path, "test.db");
  const q = new Queue("jobs", { dbPath: db, persistent: options.persistent ?? false });
  const ids = q.writeMany(["1", "2", "3", "4", "5"]);
  const observer = new Queue("jobs", { dbPath: db });
  return {
    q,
    db,
    ids,
    observer,
    pending: () => observer.stats().pending,
    [Symbol.dispose]: () => {
      q.close();
      observer.close();
      dir[Symbol.dispose]();
    },
  };
}

class Boom extends Error {}

for (const persistent of [false, true]) {
  describe(`readGenerator (${persistent ? "persistent" : "ephemeral"} handle)`, () => {
    test("exactly-once stopped after 2 of 5 (break) leaves 3 pending", () => {
      using t = fiveMessages({ persistent });
      const seen: string[] = [];
      for (const m of t.q.readGenerator()) {
        seen.push(m.body);
        if (seen.length === 2) break;
      }
      expect(seen).toEqual(["1", "2"]);
      expect(t.pending()).toBe(3);
      expect(t.observer.peekOne()?.body).toBe("3");
    });

    test("exactly-once: each yielded message is already committed", () => {
      using t = fiveMessages({ persistent });
      const gen = t.q.readGenerator({ deliveryGuarantee: "exactly-once" });
      expect(gen.next().value).toEqual({ body: "1", ts: t.ids[0]! });
      expect(t.pending()).toBe(4); // visible to another connection before the next step
      gen.return();
      expect(t.pending()).toBe(4);
    });

    test("at-least-once stopped after 2 of 5 (break) leaves all 5 pending", () => {
      using t = fiveMessages({ persistent });
      const seen: string[] = [];
      for (const m of t.q.readGenerator({ deliveryGuarantee: "at-least-once" })) {
        seen.push(m.body);
        if (seen.length === 2) break;
      }
      expect(seen).toEqual(["1", "2"]);
      expect(t.pending()).toBe(5);
      // The same messages are delivered again.
      expect(t.q.readOne()).toEqual({ body: "1", ts: t.ids[0]! });
    });

    test("at-least-once: a throw in the loop body rolls the batch back", () => {
      using t = fiveMessages({ persistent });
      const seen: string[] = [];
      expect(() => {
        for (const m of t.q.readGenerator({ deliveryGuarantee: "at-least-once" })) {
          seen.push(m.body);
          if (seen.length === 2) throw new Boom("handler failed");
        }
      }).toThrow(Boom);
      expect(seen).toEqual(["1", "2"]);
      expect(t.pending()).toBe(5);
    });

    test("at-least-once: a full iteration commits everything", () => {
      using t = fiveMessages({ persistent });
      const seen = [...t.q.readGenerator({ deliveryGuarantee: "at-least-once" })].map((m) => m.body);
      expect(seen).toEqual(["1", "2", "3", "4", "5"]);
      expect(t.pending()).toBe(0);
      expect(t.observer.stats()).toMatchObject({ claimed: 5, total: 5 });
    });

    test("at-least-once: the batch commits only when the item after its last one is asked for", () => {
      using t = fiveMessages({ persistent });
      const gen = t.q.readGenerator({ deliveryGuarantee: "at-least-once" });
      for (let i = 0; i < 5; i++) expect(gen.next().done).toBe(false);
      expect(t.pending()).toBe(5); // still uncommitted: other connections see nothing claimed
      expect(gen.next().done).toBe(true);
      expect(t.pending()).toBe(0);
    });

    test("at-least-once with batchSize: earlier batches stay committed", () => {
      using t = fiveMessages({ persistent });
      const seen: string[] = [];
      for (const m of t.q.readGenerator({ deliveryGuarantee: "at-least-once", batchSize: 2 })) {
        seen.push(m.body);
        if (seen.length === 3) break; // first of the second batch
      }
      expect(seen).toEqual(["1", "2", "3"]);
      expect(t.pending()).toBe(3); // batch [1, 2] committed, batch [3, 4] rolled back
      expect(t.observer.peekOne()?.body).toBe("3");
      expect(() => t.q.readGenerator({ deliveryGuarantee: "at-least-once", batchSize: 0 }).next()).toThrow(
        "limit must be at least 1",
      );
    });

    test("filters and exactId", () => {
      using t = fiveMessages({ persistent });
      expect([...t.q.readGenerator({ after: t.ids[2]! })].map((m) => m.body)).toEqual(["4", "5"]);
      expect([...t.q.readGenerator({ exactId: t.ids[0]! })].map((m) => m.body)).toEqual(["1"]);
      expect([...t.q.readGenerator({ before: t.ids[2]!, deliveryGuarantee: "at-least-once" })].map((m) => m.body)).toEqual(["2"]);
      expect(t.pending()).toBe(1);
    });
  });
}

describe("moveGenerator", () => {
  test("exactly-once stopped after 2 of 5 leaves 3 in the source", () => {
    using t = fiveMessages();
    const seen: string[] = [];
    for (const m of t.q.moveGenerator("done")) {
      seen.push(m.body);
      if (seen.length === 2) break;
    }
    expect(t.pending()).toBe(3);
    using done = new Queue("done", { dbPath: t.db });
    expect(done.peekMany().map((m) => m.body)).toEqual(["1", "2"]);
  });

  test("at-least-once stopped early moves nothing; a full iteration moves all", () => {
    using t = fiveMessages();
    using done = new Queue("done", { dbPath: t.db });
    const gen = t.q.moveGenerator(done, { deliveryGuarantee: "at-least-once" });
    gen.next();
    gen.next();
    gen.return();
    expect(t.pending()).toBe(5);
    expect(done.exists()).toBe(false);
    const moved = [...t.q.moveGenerator(done, { deliveryGuarantee: "at-least-once" })];
    expect(moved.map((m) => m.ts)).toEqual(t.ids);
    expect(t.observer.exists()).toBe(false);
    expect(done.stats()).toMatchObject({ pending: 5, claimed: 0 });
  });
});

describe("at-least-once batch on a persistent handle", () => {
  test("a mutating call on the same handle during the batch throws; peeks work", () => {
    using t = fiveMessages({ persistent: true });
    const gen = t.q.readGenerator({ deliveryGuarantee: "at-least-once", batchSize: 2 });
    expect(gen.next().value?.body).toBe("1");
    expect(() => t.q.write("x")).toThrow(BrokerError);
    expect(() => t.q.write("x")).toThrow("at-least-once batch");
    expect(() => t.q.readOne()).toThrow("at-least-once batch");
    expect(() => t.q.moveOne("elsewhere")).toThrow("at-least-once batch");
    expect(() => t.q.delete()).toThrow("at-least-once batch");
    // Peeks are allowed, and see the batch's own uncommitted claims.
    expect(t.q.peekOne()?.body).toBe("3");
    expect(t.observer.peekOne()?.body).toBe("1");
    gen.return();
    expect(t.q.write("x")).toBeGreaterThan(t.ids[4]!);
    expect(t.pending()).toBe(6);
  });

  test("another persistent handle on the same file shares the connection, so it is guarded too", () => {
    using t = fiveMessages({ persistent: true });
    using twin = new Queue("other", { dbPath: t.db, persistent: true });
    const gen = t.q.readGenerator({ deliveryGuarantee: "at-least-once" });
    gen.next();
    expect(() => twin.write("x")).toThrow("at-least-once batch");
    gen.return();
    expect(typeof twin.write("x")).toBe("bigint");
  });
});
