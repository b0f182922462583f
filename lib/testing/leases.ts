/**
 * The lease and delay suite (docs/leases.md) every backend with the
 * capabilities of `lib/core/leases.ts` must pass. A backend without them
 * passes by having none of them. Waits poll for up to a few seconds, so a
 * loaded machine slows the suite down instead of failing it.
 * @module
 */
import { afterAll, describe, expect, test } from "bun:test";
import { vacuumStore } from "../backends/capabilities.ts";
import type { Backend, LeaseCapabilities, Message } from "../core/types.ts";
import type { ContractOptions } from "./contract.ts";

/** A backend with every lease capability. */
type LeaseBackend = Backend & Required<LeaseCapabilities>;

const CAPABILITIES = [
  "lease",
  "ack",
  "release",
  "extend",
  "deadLetter",
  "writeDelayed",
  "promoteDue",
  "heldStats",
  "peekHeld",
] as const;

/** How long a case waits for a held message to come back before it fails. */
const PATIENCE_MS = 5000;
/**
 * A lease or delay that a case outlasts on purpose: long enough that the
 * checks made before it ends pass on a loaded machine.
 */
const SHORT_MS = 700;
/** A lease that outlives any case. */
const LONG_MS = 60_000;

/** Register the lease and delay suite (`describe`/`test` of `bun:test`) for one backend. */
export function describeLeaseContract(opts: ContractOptions): void {
  const opened: Backend[] = [];
  const it = (name: string, fn: (b: LeaseBackend) => Promise<void>) => {
    const run = async () => {
      const b = await opts.create();
      opened.push(b);
      if (!b.lease) {
        // All or none (lib/core/leases.ts).
        expect(CAPABILITIES.filter((m) => b[m] !== undefined)).toEqual([]);
        return;
      }
      expect(CAPABILITIES.filter((m) => b[m] === undefined)).toEqual([]);
      await fn(b as LeaseBackend);
    };
    if (opts.skip?.[name]) test.skip(`${name} (skipped: ${opts.skip[name]})`, run);
    else test(name, run, 60_000);
  };
  const peer = async (b: Backend): Promise<LeaseBackend> => {
    const other = opts.connectSame ? await opts.connectSame(b) : b;
    if (other !== b) opened.push(other);
    return other as LeaseBackend;
  };

  describe(`lease contract: ${opts.name}`, () => {
    afterAll(async () => {
      for (const b of opened.splice(0)) await b.close().catch(() => {});
    });

    it("lease takes the oldest first and hides them from claim and peek", async (b) => {
      const ids = await b.write("q", ["a", "b", "c"]);
      const leased = await b.lease("q", { leaseMs: LONG_MS, limit: 2 });
      expect(leased.map((m) => [m.body, m.ts, m.attempt])).toEqual([
        ["a", ids[0]!, 1],
        ["b", ids[1]!, 1],
      ]);
      expect(new Set(leased.map((m) => m.token)).size).toBe(1);
      expect(leased[0]!.deadlineMs).toBeGreaterThan(Date.now() + LONG_MS / 2);
      expect(bodies(await b.peek("q", { limit: 10 }))).toEqual(["c"]);
      expect((await b.queueStats("q")).pending).toBe(1);
      expect(bodies(await b.claim("q", { limit: 10 }))).toEqual(["c"]);
      expect(await b.lease("q", { leaseMs: LONG_MS })).toEqual([]);
    });

    it("lease selects by exact id, after and before", async (b) => {
      const ids = await b.write("q", ["a", "b", "c", "d"]);
      expect(bodies(await b.lease("q", { leaseMs: LONG_MS, exactId: ids[2]! }))).toEqual(["c"]);
      expect(await b.lease("q", { leaseMs: LONG_MS, exactId: ids[2]! })).toEqual([]);
      expect(bodies(await b.lease("q", { leaseMs: LONG_MS, after: ids[0]!, limit: 5 }))).toEqual(["b", "d"]);
      expect(bodies(await b.lease("q", { leaseMs: LONG_MS, before: ids[1]! }))).toEqual(["a"]);
    });

    it("an expired lease comes back under its id, in order, and is leased again as attempt 2", async (b) => {
      const ids = await b.write("q", ["a", "b", "c"]);
      const [first] = await b.lease("q", { leaseMs: SHORT_MS });
      expect(first!.ts).toBe(ids[0]!);
      expect(bodies(await b.peek("q", { limit: 10 }))).toEqual(["b", "c"]);
      const back = await until(async () => {
        const all = await b.peek("q", { limit: 10 });
        return all.length === 3 ? all : undefined;
      });
      expect(back.map((m) => [m.body, m.ts])).toEqual([
        ["a", ids[0]!],
        ["b", ids[1]!],
        ["c", ids[2]!],
      ]);
      const [again] = await b.lease("q", { leaseMs: LONG_MS });
      expect([again!.body, again!.ts, again!.attempt]).toEqual(["a", ids[0]!, 2]);
      expect(again!.token).not.toBe(first!.token);
      const [next] = await b.lease("q", { leaseMs: LONG_MS });
      expect([next!.body, next!.attempt]).toEqual(["b", 1]);
    });

    it("ack deletes leased messages only, and with a token only that lease's", async (b) => {
      const ids = await b.write("q", ["a", "b", "c"]);
      const [a] = await b.lease("q", { leaseMs: LONG_MS });
      const [bm] = await b.lease("q", { leaseMs: LONG_MS });
      expect(await b.ack("q", [a!.ts], "not-a-token")).toEqual([]);
      expect(await b.ack("q", [a!.ts], bm!.token)).toEqual([]);
      expect(await b.ack("other", [a!.ts])).toEqual([]);
      expect(await b.ack("q", [ids[2]!, a!.ts, 12345n], a!.token)).toEqual([a!.ts]);
      expect(await b.ack("q", [a!.ts])).toEqual([]);
      expect(await b.ack("q", [bm!.ts])).toEqual([bm!.ts]);
      expect(bodies(await b.peek("q", { limit: 10 }))).toEqual(["c"]);
      expect(await b.heldStats("q")).toEqual([]);
    });

    it("a lease past its deadline is over: ack, extend, release and deadLetter do nothing", async (b) => {
      await b.write("q", ["a"]);
      const [a] = await b.lease("q", { leaseMs: 40 });
      await Bun.sleep(120);
      expect(await b.ack("q", [a!.ts], a!.token)).toEqual([]);
      expect(await b.extend("q", a!.ts, LONG_MS, a!.token)).toBe(false);
      expect(await b.release("q", [a!.ts], { token: a!.token })).toEqual([]);
      expect(await b.deadLetter("q", [a!.ts], "dlq", a!.token)).toEqual([]);
      expect(await b.claim("q", {})).toEqual([{ body: "a", ts: a!.ts }]);
    });

    it("release returns a message at once, or after a delay, same id, attempt kept", async (b) => {
      const ids = await b.write("q", ["a", "b"]);
      const leased = await b.lease("q", { leaseMs: LONG_MS, limit: 2 });
      expect(await b.release("q", [ids[0]!], { token: "not-a-token" })).toEqual([]);
      expect(await b.release("q", [ids[0]!], { token: leased[0]!.token })).toEqual([ids[0]!]);
      expect(await b.peek("q", { limit: 10 })).toEqual([{ body: "a", ts: ids[0]! }]);
      expect(await b.release("q", [ids[1]!, ids[0]!], { delayMs: SHORT_MS })).toEqual([ids[1]!]);
      expect(await b.heldStats("q")).toEqual([{ queue: "q", leased: 0, scheduled: 1 }]);
      expect(bodies(await b.peek("q", { limit: 10 }))).toEqual(["a"]);
      await until(async () => ((await b.peek("q", { limit: 10 })).length === 2 ? true : undefined));
      const again = await b.lease("q", { leaseMs: LONG_MS, limit: 2 });
      expect(again.map((m) => [m.ts, m.attempt])).toEqual([
        [ids[0]!, 2],
        [ids[1]!, 2],
      ]);
    });

    it("extend moves the deadline; another lease's token does not", async (b) => {
      await b.write("q", ["a"]);
      const [a] = await b.lease("q", { leaseMs: SHORT_MS });
      expect(await b.extend("q", a!.ts, LONG_MS, "not-a-token")).toBe(false);
      expect(await b.extend("q", a!.ts, LONG_MS, a!.token)).toBe(true);
      await Bun.sleep(SHORT_MS + 200);
      expect(await b.peek("q", {})).toEqual([]);
      const [held] = await b.peekHeld("q", { limit: 10 });
      expect(held!.dueMs).toBeGreaterThan(Date.now() + LONG_MS / 2);
      expect(await b.extend("q", a!.ts, 50)).toBe(true);
      await until(async () => ((await b.peek("q", {})).length === 1 ? true : undefined));
      expect(await b.extend("q", 12345n, LONG_MS)).toBe(false);
    });

    it("deadLetter moves leased messages to the target as pending, same id", async (b) => {
      const ids = await b.write("q", ["a", "b"]);
      const [a] = await b.lease("q", { leaseMs: LONG_MS });
      expect(await b.deadLetter("q", [a!.ts, ids[1]!], "q.dead", a!.token)).toEqual([a!.ts]);
      expect(await b.peek("q.dead", { limit: 10 })).toEqual([{ body: "a", ts: ids[0]! }]);
      expect(await b.heldStats()).toEqual([]);
      expect(bodies(await b.peek("q", { limit: 10 }))).toEqual(["b"]);
      expect(await b.claim("q.dead", {})).toEqual([{ body: "a", ts: ids[0]! }]);
    });

    it("writeDelayed is invisible until due, then delivered under its ids in write order", async (b) => {
      const [first] = await b.write("q", ["a"]);
      const delayed = await b.writeDelayed("q", ["d1", "d2"], { delayMs: SHORT_MS });
      const [last] = await b.write("q", ["z"]);
      expect(delayed.length).toBe(2);
      expect(first! < delayed[0]! && delayed[0]! < delayed[1]! && delayed[1]! < last!).toBe(true);
      expect(bodies(await b.peek("q", { limit: 10 }))).toEqual(["a", "z"]);
      expect(await b.hasPending("q", last)).toBe(false);
      expect(await b.heldStats("q")).toEqual([{ queue: "q", leased: 0, scheduled: 2 }]);
      const all = await until(async () => {
        const got = await b.peek("q", { limit: 10 });
        return got.length === 4 ? got : undefined;
      });
      expect(all.map((m) => [m.body, m.ts])).toEqual([
        ["a", first!],
        ["d1", delayed[0]!],
        ["d2", delayed[1]!],
        ["z", last!],
      ]);
      expect(bodies(await b.claim("q", { limit: 10 }))).toEqual(["a", "d1", "d2", "z"]);
      expect(await b.writeDelayed("q", [], { atMs: Date.now() })).toEqual([]);
    });

    it("promoteDue returns due messages of one queue, or of all", async (b) => {
      expect(await b.promoteDue()).toBe(0);
      await b.writeDelayed("q1", ["x"], { delayMs: 30 });
      await b.writeDelayed("q2", ["y"], { delayMs: 30 });
      await b.writeDelayed("q3", ["later"], { delayMs: LONG_MS });
      await Bun.sleep(100);
      expect(await b.promoteDue("q1")).toBe(1);
      expect(await b.promoteDue("q1")).toBe(0);
      expect(await b.promoteDue()).toBe(1);
      expect(await b.promoteDue()).toBe(0);
      expect(bodies(await b.claim("q2", {}))).toEqual(["y"]);
      expect(await b.heldStats()).toEqual([{ queue: "q3", leased: 0, scheduled: 1 }]);
    });

    it("heldStats and peekHeld show leased and scheduled messages", async (b) => {
      const ids = await b.write("q", ["a", "b", "c"]);
      const leased = await b.lease("q", { leaseMs: LONG_MS, limit: 2 });
      const due = Date.now() + LONG_MS;
      const [d] = await b.writeDelayed("q", ["d"], { atMs: due });
      await b.writeDelayed("r", ["e"], { atMs: due });
      const stats = (await b.heldStats()).sort((x, y) => (x.queue < y.queue ? -1 : 1));
      expect(stats).toEqual([
        { queue: "q", leased: 2, scheduled: 1 },
        { queue: "r", leased: 0, scheduled: 1 },
      ]);
      expect(await b.heldStats("r")).toEqual([{ queue: "r", leased: 0, scheduled: 1 }]);
      expect(await b.heldStats("nothing")).toEqual([]);
      const held = await b.peekHeld("q", { limit: 10 });
      expect(held.map((m) => [m.body, m.ts, m.leased, m.attempt])).toEqual([
        ["a", ids[0]!, true, 1],
        ["b", ids[1]!, true, 1],
        ["d", d!, false, 0],
      ]);
      expect(held[0]!.dueMs).toBe(leased[0]!.deadlineMs);
      expect(Math.abs(held[2]!.dueMs - due)).toBeLessThan(2);
      expect(bodies(await b.peekHeld("q", { after: ids[0]!, limit: 1 }))).toEqual(["b"]);
      expect(await b.peekHeld("nothing", { limit: 10 })).toEqual([]);
      expect((await b.queueStats("q")).pending).toBe(1);
    });

    it("held messages survive a vacuum", async (b) => {
      await b.write("q", ["read", "leased", "kept"]);
      await b.claim("q", {});
      const [leased] = await b.lease("q", { leaseMs: LONG_MS });
      const [delayed] = await b.writeDelayed("q", ["delayed"], { delayMs: SHORT_MS });
      await vacuumStore(b);
      expect(await b.heldStats("q")).toEqual([{ queue: "q", leased: 1, scheduled: 1 }]);
      expect(await b.ack("q", [leased!.ts], leased!.token)).toEqual([leased!.ts]);
      const got = await until(async () => {
        const all = await b.peek("q", { limit: 10 });
        return all.length === 2 ? all : undefined;
      });
      expect(got.map((m) => m.body)).toEqual(["kept", "delayed"]);
      expect(got[1]!.ts).toBe(delayed!);
    });

    it("another connection sees held messages and returns them when due", async (b) => {
      const other = await peer(b);
      expect(await other.peek("q", {})).toEqual([]); // looked before anything was ever held
      const [id] = await b.write("q", ["a"]);
      const [a] = await b.lease("q", { leaseMs: SHORT_MS });
      expect(await other.claim("q", {})).toEqual([]);
      expect(await other.heldStats("q")).toEqual([{ queue: "q", leased: 1, scheduled: 0 }]);
      const got = await until(async () => {
        const [m] = await other.lease("q", { leaseMs: LONG_MS });
        return m;
      });
      expect([got.ts, got.attempt]).toEqual([id!, 2]);
      expect(await b.ack("q", [a!.ts], a!.token)).toEqual([]);
      expect(await b.ack("q", [got.ts], got.token)).toEqual([got.ts]);
    });

    it("delete removes a queue's held messages too", async (b) => {
      await b.write("q", ["a", "b"]);
      await b.lease("q", { leaseMs: 50 });
      await b.writeDelayed("q", ["c"], { delayMs: 50 });
      await b.deleteQueue("q");
      await Bun.sleep(120);
      expect(await b.promoteDue()).toBe(0);
      expect(await b.peek("q", { limit: 10 })).toEqual([]);
      expect(await b.heldStats()).toEqual([]);
    });
  });
}

// --- internal ---

function bodies(messages: Message[]): string[] {
  return messages.map((m) => m.body);
}

/** Poll `probe` until it returns a value, for up to {@link PATIENCE_MS}. */
async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`still waiting after ${PATIENCE_MS} ms`);
    await Bun.sleep(20);
  }
}
