/**
 * Contract cases of the optional capabilities: each runs against the
 * capability when the backend has it; without it, the case checks the
 * fallback shared code uses instead (or that there is nothing to check).
 * @module
 */
import { expect } from "bun:test";
import { isAbsolute } from "../util/path.ts";
import { cleanupStore } from "../backends/capabilities.ts";
import type { Backend, Message } from "../core/types.ts";
import { describeInspectionCases } from "./inspection.ts";

/** What the capability cases borrow from the contract suite. */
export interface CapabilityCaseContext {
  /** Register one case (honours the suite's skip list). */
  it: (name: string, fn: () => Promise<void>) => void;
  /** A fresh, empty, initialised backend, closed after the suite. */
  fresh: () => Promise<Backend>;
  /** A second connection to the same store, when the suite was given one. */
  connectSame?: (backend: Backend) => Promise<Backend>;
  /** Backends to close after the suite. */
  opened: Backend[];
}

/** Register the capability cases inside the contract suite's `describe`. */
export function describeCapabilities(ctx: CapabilityCaseContext): void {
  const { it, fresh } = ctx;
  describeInspectionCases(it, fresh);
  const peer = async (b: Backend) => {
    if (!ctx.connectSame) return b;
    const other = await ctx.connectSame(b);
    ctx.opened.push(other);
    return other;
  };

  it("activity: a write wakes waitForActivity and onActivity listeners", async () => {
    const b = await fresh();
    const writer = await peer(b);
    if (b.waitForActivity) {
      // A wake-up is a hint: one sent before the listener is in place may be missed, so write until one lands.
      let woke = false;
      for (let i = 0; i < 30 && !woke; i++) {
        const wait = b.waitForActivity(["q"], 1000);
        await writer.write("q", [`x${i}`]);
        woke = await wait;
      }
      expect(woke).toBe(true);
    } else {
      await writer.write("q", ["x"]);
    }
    if (b.onActivity) {
      const seen = Promise.withResolvers<string>();
      const stop = b.onActivity((queue) => (queue === "q2" || queue === "*") && seen.resolve(queue));
      try {
        await b.write("q2", ["y"]);
        expect(["q2", "*"]).toContain(await seen.promise);
      } finally {
        stop();
      }
    }
    // Polling, the fallback of every watcher, sees the writes.
    expect(await b.hasPending("q")).toBe(true);
  });

  it("dataVersion changes when another connection commits", async () => {
    const b = await fresh();
    if (!b.dataVersion) return; // no data-version capability: watchers poll instead
    const other = await peer(b);
    if (other === b) return; // needs a second connection (connectSame)
    const v1 = await b.dataVersion();
    expect(await b.dataVersion()).toBe(v1);
    await other.write("q", ["x"]);
    expect(await b.dataVersion()).not.toBe(v1);
  });

  it("offerIdle: a single write hands its message to an idle consumer, claimed for it", async () => {
    const b = await fresh();
    if (!b.offerIdle) return; // no hand-over capability: idle watchers look again instead
    const [older] = await b.write("q", ["old"]);
    const got = Promise.withResolvers<Message>();
    const withdraw = b.offerIdle("q", { after: older, claims: true, accept: got.resolve });
    try {
      const [id] = await b.write("q", ["new"]);
      expect(await got.promise).toEqual({ body: "new", ts: id! });
      expect((await b.queueStats("q")).pending).toBe(1); // "old" only: "new" went to the consumer claimed
    } finally {
      withdraw();
    }
    // A withdrawn offer takes nothing.
    await b.write("q", ["later"]);
    expect((await b.peek("q", { limit: 10 })).map((m) => m.body)).toEqual(["old", "later"]);
  });

  it("localFile names the store's file on this machine", async () => {
    const b = await fresh();
    if (b.localFile === undefined) return; // not a local file: nothing to check
    await b.write("q", ["x"]);
    expect(isAbsolute(b.localFile)).toBe(true);
    expect(await Bun.file(b.localFile).exists()).toBe(true);
  });

  it("cleanup removes the store and says whether there was one", async () => {
    const b = await fresh();
    await b.write("q", ["x"]);
    // Without the capability shared code reports that nothing was removed.
    expect(await cleanupStore(b)).toBe(b.cleanup !== undefined);
  });
}
