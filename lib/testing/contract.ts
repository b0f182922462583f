/**
 * The one behaviour suite every backend must pass: the three built-in ones
 * and any backend from outside (`simplebroker/testing`). `create()` returns a
 * fresh, empty backend; a backend that cannot pass a case lists it in `skip`
 * with the reason, so gaps are visible. The required core is checked here,
 * the optional capabilities in `./capabilities.ts`.
 * @module
 */
import { afterAll, describe, expect, test } from "bun:test";
import { reserveBatch, vacuumStore } from "../backends/capabilities.ts";
import type { Backend } from "../core/types.ts";
import { describeCapabilities } from "./capabilities.ts";

/** What {@link describeBackendContract} needs to know about a backend. */
export interface ContractOptions {
  /** Shown in the suite's name. */
  name: string;
  /** A fresh, empty, initialised backend. */
  create: () => Promise<Backend>;
  /** A second connection to the same store as `backend` (for concurrency cases). */
  connectSame?: (backend: Backend) => Promise<Backend>;
  /** Test names to skip, with the reason. */
  skip?: Record<string, string>;
}

/** Register the whole behaviour suite (`describe`/`test` of `bun:test`) for one backend. */
export function describeBackendContract(opts: ContractOptions): void {
  const opened: Backend[] = [];
  const fresh = async () => {
    const b = await opts.create();
    opened.push(b);
    return b;
  };
  const it = (name: string, fn: () => Promise<void>) =>
    opts.skip?.[name] ? test.skip(`${name} (skipped: ${opts.skip[name]})`, fn) : test(name, fn, 60_000);

  describe(`backend contract: ${opts.name}`, () => {
    afterAll(async () => {
      for (const b of opened) await b.close().catch(() => {});
    });

    it("write returns strictly increasing ids and claims are FIFO", async () => {
      const b = await fresh();
      const ids = await b.write("q", ["a", "b", "c"]);
      expect(ids.length).toBe(3);
      expect(ids[0]! < ids[1]! && ids[1]! < ids[2]!).toBe(true);
      const more = await b.write("q", ["d"]);
      expect(more[0]! > ids[2]!).toBe(true);
      const got = [];
      for (;;) {
        const [m] = await b.claim("q", {});
        if (!m) break;
        got.push(m);
      }
      expect(got.map((m) => m.body)).toEqual(["a", "b", "c", "d"]);
      expect(got.map((m) => m.ts)).toEqual([...ids, ...more]);
      expect(await b.claim("q", {})).toEqual([]);
    });

    it("bodies round-trip byte-exact (unicode, NUL, empty, newlines)", async () => {
      const b = await fresh();
      const bodies = ["", "héllo ✓ 日本 🎉", "a\0b", "line1\nline2\r\n\t", "x".repeat(100_000)];
      await b.write("q", bodies);
      const got = await b.claim("q", { limit: 10 });
      expect(got.map((m) => m.body)).toEqual(bodies);
    });

    it("peek leaves messages and pages with offset", async () => {
      const b = await fresh();
      await b.write("q", ["1", "2", "3", "4", "5"]);
      expect((await b.peek("q", {})).map((m) => m.body)).toEqual(["1"]);
      expect((await b.peek("q", { limit: 2, offset: 2 })).map((m) => m.body)).toEqual(["3", "4"]);
      expect((await b.peek("q", { limit: 100 })).length).toBe(5);
      expect((await b.queueStats("q")).pending).toBe(5);
    });

    it("claim with a limit takes the oldest in order, once", async () => {
      const b = await fresh();
      await b.write(
        "q",
        Array.from({ length: 10 }, (_, i) => `m${i}`),
      );
      expect((await b.claim("q", { limit: 3 })).map((m) => m.body)).toEqual(["m0", "m1", "m2"]);
      expect((await b.claim("q", { limit: 100 })).map((m) => m.body)).toEqual(["m3", "m4", "m5", "m6", "m7", "m8", "m9"]);
      const s = await b.queueStats("q");
      expect(s).toEqual({ queue: "q", pending: 0, claimed: 10, total: 10, exists: true });
    });

    it("after/before are strict bounds and exact ids select one message", async () => {
      const b = await fresh();
      const ids = await b.write("q", ["a", "b", "c", "d"]);
      expect((await b.peek("q", { after: ids[1], limit: 10 })).map((m) => m.body)).toEqual(["c", "d"]);
      expect((await b.peek("q", { before: ids[1], limit: 10 })).map((m) => m.body)).toEqual(["a"]);
      expect((await b.peek("q", { after: ids[0], before: ids[3], limit: 10 })).map((m) => m.body)).toEqual(["b", "c"]);
      expect(await b.peek("q", { after: ids[3], before: ids[0], limit: 10 })).toEqual([]);
      expect((await b.claim("q", { exactId: ids[2] })).map((m) => m.body)).toEqual(["c"]);
      expect(await b.claim("q", { exactId: ids[2] })).toEqual([]);
      expect(await b.peek("q", { exactId: ids[2] })).toEqual([]);
      expect(await b.claim("other", { exactId: ids[0] })).toEqual([]);
    });

    it("move keeps ids, creates the destination, honours filters and --all", async () => {
      const b = await fresh();
      const ids = await b.write("src", ["a", "b", "c"]);
      const [one] = await b.move("src", "dst", {});
      expect(one).toEqual({ body: "a", ts: ids[0]! });
      const rest = await b.move("src", "dst", { limit: 1_000_000, after: ids[1]! - 1n });
      expect(rest.map((m) => m.body)).toEqual(["b", "c"]);
      expect(await b.move("src", "dst", {})).toEqual([]);
      expect((await b.peek("dst", { limit: 10 })).map((m) => m.ts)).toEqual(ids);
      expect((await b.queueStats("src")).exists).toBe(false);
    });

    it("move by exact id revives a claimed message; claims skip claimed rows", async () => {
      const b = await fresh();
      const [id] = await b.write("q", ["x"]);
      await b.claim("q", {});
      expect(await b.move("q", "back", { exactId: id })).toEqual([]);
      expect(await b.move("q", "back", { exactId: id, requireUnclaimed: false })).toEqual([{ body: "x", ts: id! }]);
      expect((await b.claim("back", {})).map((m) => m.body)).toEqual(["x"]);
    });

    it("moved messages interleave by original order in the destination", async () => {
      const b = await fresh();
      await b.write("src", ["s1"]);
      await b.write("dst", ["d1"]);
      await b.write("src", ["s2"]);
      await b.move("src", "dst", { limit: 10 });
      expect((await b.peek("dst", { limit: 10 })).map((m) => m.body)).toEqual(["s1", "d1", "s2"]);
    });

    it("deleteQueue removes one queue or all, pending and claimed", async () => {
      const b = await fresh();
      await b.write("a", ["1", "2"]);
      await b.write("b", ["3"]);
      await b.claim("a", {});
      expect(await b.deleteQueue("a")).toBe(2);
      expect((await b.listStats()).map((s) => s.queue)).toEqual(["b"]);
      expect(await b.deleteQueue("nope")).toBe(0);
      expect(await b.deleteQueue()).toBe(1);
      expect(await b.listStats()).toEqual([]);
    });

    it("broadcast reaches every queue with rows (incl. claimed-only), or the chosen ones that have rows", async () => {
      const b = await fresh();
      expect(await b.broadcast("hello")).toBe(0);
      await b.write("jobs-1", ["x"]);
      await b.write("jobs-2", ["y"]);
      await b.write("misc", ["z"]);
      await b.claim("misc", {});
      expect(await b.broadcast("pause", { queues: ["jobs-1", "jobs-2", "gone"] })).toBe(2);
      expect(await b.broadcast("none", { queues: [] })).toBe(0);
      // A queue with rows outside the caller's listing: nothing written, the caller lists again.
      expect(await b.broadcast("stale", { queues: ["jobs-1"], listed: ["jobs-1", "jobs-2"] })).toBe(-1);
      expect(await b.broadcast("all")).toBe(3);
      expect((await b.peek("jobs-1", { limit: 10 })).map((m) => m.body)).toEqual(["x", "pause", "all"]);
      expect((await b.peek("misc", { limit: 10 })).map((m) => m.body)).toEqual(["all"]);
      const ts = (await b.peek("jobs-2", { limit: 10 })).map((m) => m.ts);
      expect(new Set(ts).size).toBe(3);
    });

    it("stats: listStats (with a prefix hint), queueStats, hasPending, status", async () => {
      const b = await fresh();
      await b.write("jobs.a", ["1", "2"]);
      await b.write("jobs.b", ["3"]);
      await b.write("other", ["4"]);
      await b.claim("jobs.a", {});
      expect(await b.listStats()).toEqual([
        { queue: "jobs.a", pending: 1, claimed: 1, total: 2, exists: true },
        { queue: "jobs.b", pending: 1, claimed: 0, total: 1, exists: true },
        { queue: "other", pending: 1, claimed: 0, total: 1, exists: true },
      ]);
      // `prefix` is a hint (a range scan where the backend has one): filtering is the caller's.
      const hinted = (await b.listStats({ prefix: "jobs." })).map((s) => s.queue);
      expect(hinted.filter((q) => q.startsWith("jobs."))).toEqual(["jobs.a", "jobs.b"]);
      expect(hinted).toEqual([...hinted].sort());
      expect(await b.queueStats("missing")).toEqual({ queue: "missing", pending: 0, claimed: 0, total: 0, exists: false });
      expect(await b.hasPending("jobs.a")).toBe(true);
      expect(await b.hasPending("missing")).toBe(false);
      const [last] = await b.write("other", ["5"]);
      expect(await b.hasPending("other", last)).toBe(false);
      expect(await b.hasPending("other", last! - 1n)).toBe(true);
      const st = await b.status();
      expect(st.totalMessages).toBe(5);
      expect(st.lastTimestamp).toBe(last!);
    });

    it("generateTimestamp allocates ids above every previous id", async () => {
      const b = await fresh();
      const [w] = await b.write("q", ["x"]);
      const g1 = await b.generateTimestamp();
      const g2 = await b.generateTimestamp();
      expect(g1 > w! && g2 > g1).toBe(true);
      expect(await b.lastTimestamp()).toBe(g2);
      const [w2] = await b.write("q", ["y"]);
      expect(w2! > g2).toBe(true);
      expect(String(w2).length).toBe(19);
    });

    it("aliases: add, resolve, list, refuse duplicates, alias-of-alias and cycles, remove", async () => {
      const b = await fresh();
      await b.addAlias("x", "real");
      await b.addAlias("y", "real");
      expect(await b.resolveAlias("x")).toBe("real");
      expect(await b.resolveAlias("nope")).toBeUndefined();
      expect(await b.listAliases()).toEqual([
        ["x", "real"],
        ["y", "real"],
      ]);
      await expect(b.addAlias("x", "other")).rejects.toThrow("Alias 'x' already exists");
      await expect(b.addAlias("z", "x")).rejects.toThrow("Cannot target another alias");
      await b.addAlias("real", "final");
      await expect(b.addAlias("final", "real")).rejects.toThrow(/Cannot target another alias|Alias cycle detected/);
      expect(await b.removeAlias("x")).toBe(true);
      expect(await b.removeAlias("x")).toBe(false);
      expect((await b.listAliases()).map(([a]) => a)).toEqual(["real", "y"]);
    });

    it("vacuum removes only claimed messages", async () => {
      const b = await fresh();
      await b.write("a", ["1", "2", "3"]);
      await b.claim("a", { limit: 2 });
      const r = await vacuumStore(b, false);
      if (!b.vacuum) {
        expect(r).toEqual({ vacuumed: 0, ran: true }); // no maintenance capability: nothing is removed
        return;
      }
      expect(r).toEqual({ vacuumed: 2, ran: true });
      expect(await b.queueStats("a")).toEqual({ queue: "a", pending: 1, claimed: 0, total: 1, exists: true });
      expect((await vacuumStore(b, true)).vacuumed).toBe(0);
      expect((await b.peek("a", {})).map((m) => m.body)).toEqual(["3"]);
    });

    it("reserve: commit keeps the claim, rollback restores the whole batch", async () => {
      const b = await fresh();
      await b.write("q", ["1", "2", "3", "4", "5"]);
      const r1 = await reserveBatch(b, "q", { limit: 2 });
      expect(r1.messages.map((m) => m.body)).toEqual(["1", "2"]);
      await r1.rollback();
      expect((await b.queueStats("q")).pending).toBe(5);
      const r2 = await reserveBatch(b, "q", { limit: 2 });
      await r2.commit();
      expect((await b.queueStats("q")).pending).toBe(3);
      const r3 = await reserveBatch(b, "q", { limit: 10 }, "done");
      expect(r3.messages.map((m) => m.body)).toEqual(["3", "4", "5"]);
      await r3.rollback();
      expect((await b.queueStats("done")).total).toBe(0);
      const r4 = await reserveBatch(b, "q", { limit: 10 }, "done");
      await r4.commit();
      expect((await b.peek("done", { limit: 10 })).map((m) => m.body)).toEqual(["3", "4", "5"]);
    });

    it("concurrent claimers never receive the same message", async () => {
      const b = await fresh();
      const total = 400;
      await b.write(
        "q",
        Array.from({ length: total }, (_, i) => String(i)),
      );
      const peers = opts.connectSame ? await Promise.all([1, 2, 3].map(() => opts.connectSame!(b))) : [b, b, b];
      opened.push(...peers.filter((p) => p !== b));
      const seen: string[] = [];
      await Promise.all(
        [b, ...peers].map(async (peer) => {
          for (;;) {
            const got = await peer.claim("q", { limit: 7 });
            if (got.length === 0) break;
            seen.push(...got.map((m) => m.body));
          }
        }),
      );
      expect(seen.length).toBe(total);
      expect(new Set(seen).size).toBe(total);
    });

    describeCapabilities({ it, fresh, connectSame: opts.connectSame, opened });
  });
}
