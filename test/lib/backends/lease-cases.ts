/**
 * Lease and delay cases run against the PostgreSQL and Redis backends
 * (postgres-leases.test.ts, redis-leases.test.ts): the model of
 * docs/leases.md driven through the real backends on live servers.
 */
import { expect, test } from "bun:test";
import type { Backend } from "../../../lib/core/types.ts";

/** How the cases get stores: `fresh` a new empty one, `peer` a second connection to the same store. */
export interface LeaseCaseHost {
  fresh: () => Promise<Backend>;
  peer: (b: Backend) => Promise<Backend>;
}

const bodies = (ms: { body: string }[]) => ms.map((m) => m.body);

/** Register the cases. */
export function describeLeaseCases(host: LeaseCaseHost): void {
  const { fresh, peer } = host;

  test("lease takes the oldest pending message out of the pending set, with attempt, token and deadline", async () => {
    const b = await fresh();
    const ids = await b.write("q", ["a", "b", "c"]);
    const before = Date.now();
    const [m] = await b.lease!("q", { leaseMs: 60_000 });
    expect(m).toMatchObject({ body: "a", ts: ids[0], attempt: 1 });
    expect(m!.token).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(m!.deadlineMs - (before + 60_000))).toBeLessThan(5_000);
    expect(bodies(await b.peek("q", { limit: 10 }))).toEqual(["b", "c"]);
    expect((await b.queueStats("q")).pending).toBe(2);
    expect(await b.heldStats!("q")).toEqual([{ queue: "q", leased: 1, scheduled: 0 }]);
    const held = await b.peekHeld!("q", { limit: 10 });
    expect(held).toEqual([{ body: "a", ts: ids[0]!, leased: true, dueMs: m!.deadlineMs, attempt: 1 }]);
    const two = await b.lease!("q", { leaseMs: 60_000, limit: 5 });
    expect(bodies(two)).toEqual(["b", "c"]);
    expect(two[0]!.token).toBe(two[1]!.token);
    expect(await b.lease!("q", { leaseMs: 60_000 })).toEqual([]);
    expect(await b.claim("q", {})).toEqual([]);
  });

  test("ack deletes for good, only under the lease (and its token)", async () => {
    const b = await fresh();
    const ids = await b.write("q", ["a", "b"]);
    const [m] = await b.lease!("q", { leaseMs: 60_000, exactId: ids[1] });
    expect(m!.body).toBe("b");
    expect(await b.ack!("q", [ids[0]!])).toEqual([]); // pending, not leased
    expect(await b.ack!("q", [ids[1]!], "not-the-token")).toEqual([]);
    expect(await b.ack!("other", [ids[1]!])).toEqual([]);
    expect(await b.ack!("q", [ids[1]!], m!.token)).toEqual([ids[1]!]);
    expect(await b.ack!("q", [ids[1]!])).toEqual([]);
    expect(await b.ack!("q", [0n, -5n, 1n << 70n])).toEqual([]); // impossible ids match nothing
    expect(await b.extend!("q", 1n << 64n, 1000)).toBe(false);
    expect(await b.lease!("q", { leaseMs: 1000, exactId: 1n << 64n })).toEqual([]);
    expect(await b.heldStats!()).toEqual([]);
    expect(bodies(await b.peek("q", { limit: 10 }))).toEqual(["a"]);
  });

  test("release puts messages back in their original place; the next lease counts attempt 2", async () => {
    const b = await fresh();
    const ids = await b.write("q", ["a", "b", "c"]);
    const leased = await b.lease!("q", { leaseMs: 60_000, limit: 2 });
    expect(await b.release!("q", [ids[1]!, ids[0]!], { token: leased[0]!.token })).toEqual([ids[0]!, ids[1]!]);
    expect(await b.peek("q", { limit: 10 })).toEqual([
      { body: "a", ts: ids[0]! },
      { body: "b", ts: ids[1]! },
      { body: "c", ts: ids[2]! },
    ]);
    const again = await b.lease!("q", { leaseMs: 60_000, limit: 3 });
    expect(again.map((m) => m.attempt)).toEqual([2, 2, 1]);
    expect(await b.release!("q", [ids[0]!], { token: leased[0]!.token })).toEqual([]); // an old token
  });

  test("an expired lease comes back at the next read, before newer messages, and cannot be acked or extended", async () => {
    const b = await fresh();
    const other = await peer(b);
    const ids = await b.write("q", ["a", "b"]);
    const [m] = await b.lease!("q", { leaseMs: 40 });
    await Bun.sleep(120);
    expect(await b.ack!("q", [ids[0]!], m!.token)).toEqual([]);
    expect(await b.extend!("q", ids[0]!, 60_000, m!.token)).toBe(false);
    expect(await other.hasPending("q", ids[0]! - 1n)).toBe(true); // the due message counts for a watcher's check
    expect(await other.hasPending("q", ids[1])).toBe(false);
    expect(await other.claim("q", {})).toEqual([{ body: "a", ts: ids[0]! }]);
    expect(bodies(await other.peek("q", { limit: 5 }))).toEqual(["b"]);
  });

  test("expiry seen by peek, move, stats and lease of another connection", async () => {
    const b = await fresh();
    const other = await peer(b);
    const ids = await b.write("q", ["a", "b"]);
    await b.lease!("q", { leaseMs: 40 });
    await Bun.sleep(120);
    expect((await other.queueStats("q")).pending).toBe(2);
    await b.lease!("q", { leaseMs: 40, limit: 2 });
    await Bun.sleep(120);
    expect((await other.listStats()).map((s) => [s.queue, s.pending])).toEqual([["q", 2]]);
    await b.lease!("q", { leaseMs: 40, limit: 2 });
    await Bun.sleep(120);
    expect(bodies(await other.peek("q", { limit: 5 }))).toEqual(["a", "b"]);
    await b.lease!("q", { leaseMs: 40, exactId: ids[0] });
    await Bun.sleep(120);
    expect(await other.move("q", "t", {})).toEqual([{ body: "a", ts: ids[0]! }]);
    await b.lease!("q", { leaseMs: 40 });
    await Bun.sleep(120);
    const [again] = await other.lease!("q", { leaseMs: 60_000 });
    expect(again).toMatchObject({ body: "b", attempt: 4 });
  });

  test("extend moves the deadline while the lease holds", async () => {
    const b = await fresh();
    const [id] = await b.write("q", ["a"]);
    const [m] = await b.lease!("q", { leaseMs: 150 });
    expect(await b.extend!("q", id!, 60_000, "wrong")).toBe(false);
    expect(await b.extend!("q", id!, 60_000, m!.token)).toBe(true);
    await Bun.sleep(250);
    expect(await b.claim("q", {})).toEqual([]);
    const [held] = await b.peekHeld!("q", { limit: 1 });
    expect(held!.dueMs).toBeGreaterThan(Date.now() + 50_000);
    expect(await b.extend!("q", id!, 60_000)).toBe(true);
    expect(await b.ack!("q", [id!])).toEqual([id!]);
    expect(await b.extend!("q", id!, 60_000)).toBe(false);
  });

  test("release with a delay holds the message without a token until then, attempt kept", async () => {
    const b = await fresh();
    const ids = await b.write("q", ["a", "b"]);
    const [m] = await b.lease!("q", { leaseMs: 60_000 });
    expect(await b.release!("q", [ids[0]!], { delayMs: 150, token: m!.token })).toEqual([ids[0]!]);
    expect(await b.heldStats!("q")).toEqual([{ queue: "q", leased: 0, scheduled: 1 }]);
    expect(await b.ack!("q", [ids[0]!])).toEqual([]); // not under a lease any more
    const [held] = await b.peekHeld!("q", { limit: 5 });
    expect(held).toMatchObject({ ts: ids[0], leased: false, attempt: 1 });
    expect(bodies(await b.peek("q", { limit: 5 }))).toEqual(["b"]);
    await Bun.sleep(250);
    const [again] = await b.lease!("q", { leaseMs: 60_000 });
    expect(again).toMatchObject({ body: "a", attempt: 2 });
  });

  test("deadLetter moves leased messages to the target under the same id; the target is created", async () => {
    const b = await fresh();
    const ids = await b.write("q", ["a", "b"]);
    const [m] = await b.lease!("q", { leaseMs: 60_000 });
    expect(await b.deadLetter!("q", [ids[0]!], "dlq", "wrong")).toEqual([]);
    expect(await b.deadLetter!("q", [ids[0]!, ids[1]!], "dlq", m!.token)).toEqual([ids[0]!]);
    expect(await b.peek("dlq", { limit: 5 })).toEqual([{ body: "a", ts: ids[0]! }]);
    expect((await b.listStats()).map((s) => s.queue)).toEqual(["dlq", "q"]);
    expect(await b.heldStats!()).toEqual([]);
    const [fromDlq] = await b.lease!("dlq", { leaseMs: 60_000 });
    expect(fromDlq).toMatchObject({ ts: ids[0], attempt: 1 });
  });

  test("writeDelayed allocates ids now; the messages stay invisible until due, then take their place by id", async () => {
    const b = await fresh();
    const other = await peer(b);
    const [first] = await b.write("q", ["first"]);
    const delayed = await b.writeDelayed!("q", ["d1", "d2"], { delayMs: 250 });
    expect(delayed.length).toBe(2);
    expect(delayed[0]! > first! && delayed[1]! > delayed[0]!).toBe(true);
    const [later] = await b.write("q", ["later"]);
    expect(later! > delayed[1]!).toBe(true);
    expect(bodies(await other.peek("q", { limit: 10 }))).toEqual(["first", "later"]);
    expect(await other.hasPending("q", later)).toBe(false);
    expect(await other.heldStats!()).toEqual([{ queue: "q", leased: 0, scheduled: 2 }]);
    expect((await other.peekHeld!("q", { limit: 1, after: delayed[0] })).map((h) => [h.body, h.leased, h.attempt])).toEqual([
      ["d2", false, 0],
    ]);
    expect(await other.promoteDue!("q")).toBe(0);
    expect((await b.status()).lastTimestamp).toBe(later!);
    await Bun.sleep(350);
    expect(await other.promoteDue!()).toBe(2);
    expect(await other.claim("q", { limit: 10 })).toEqual([
      { body: "first", ts: first! },
      { body: "d1", ts: delayed[0]! },
      { body: "d2", ts: delayed[1]! },
      { body: "later", ts: later! },
    ]);
  });

  test("a native wait ends when a held message of its queues becomes due", async () => {
    const b = await fresh();
    await b.waitForActivity!(["other", "q"], 50); // subscribed (a first Redis wait ends at once, by design)
    await b.writeDelayed!("q", ["d"], { delayMs: 400 });
    const started = Date.now();
    // The delayed write is announced (idle waiters then set their due timer); a waiter that looks again
    // after each wake-up gets the message once it is due, never before, long before the 10 s timeout.
    let got: { body: string }[] = [];
    for (let wakes = 0; got.length === 0 && wakes < 5; wakes++) {
      expect(await b.waitForActivity!(["other", "q"], 10_000)).toBe(true);
      got = await b.claim("q", {});
    }
    expect(got).toMatchObject([{ body: "d" }]);
    expect(Date.now() - started).toBeGreaterThan(250);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test("deleting a queue forgets its held messages", async () => {
    const b = await fresh();
    await b.write("q", ["a", "b"]);
    await b.lease!("q", { leaseMs: 60_000 });
    await b.writeDelayed!("q", ["c"], { delayMs: 60_000 });
    await b.writeDelayed!("keep", ["k"], { delayMs: 60_000 });
    expect(await b.deleteQueue("q")).toBe(3);
    expect(await b.heldStats!()).toEqual([{ queue: "keep", leased: 0, scheduled: 1 }]);
    expect(await b.deleteQueue()).toBe(1);
    expect(await b.heldStats!()).toEqual([]);
  });

  test("concurrent leasers on separate connections never get the same message", async () => {
    const b = await fresh();
    const n = 120;
    await b.write(
      "q",
      Array.from({ length: n }, (_, i) => `m${i}`),
    );
    const workers = await Promise.all(Array.from({ length: 6 }, () => peer(b)));
    const seen: bigint[] = [];
    await Promise.all(
      workers.map(async (w) => {
        for (;;) {
          const got = await w.lease!("q", { leaseMs: 60_000, limit: 3 });
          if (got.length === 0) return;
          seen.push(...got.map((m) => m.ts));
        }
      }),
    );
    expect(seen.length).toBe(n);
    expect(new Set(seen).size).toBe(n);
    expect(await b.heldStats!("q")).toEqual([{ queue: "q", leased: n, scheduled: 0 }]);
  });
}
