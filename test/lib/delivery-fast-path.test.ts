/**
 * `deliverEach`'s steps without waiting (lib/delivery/drive.ts): a delivery
 * that returns DELIVERED or an already-settled promise is not awaited, yet a
 * rejected one still puts its message back, a stop request still ends the walk
 * at the next message, and a source that answers later is still waited for.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openBroker, type Message } from "../../index.ts";
import { DELIVERED, deliverEach, type AsyncSource } from "../../lib/delivery/drive.ts";
import { walk } from "../../lib/delivery/loops.ts";
import { tempDir } from "../helpers.ts";

const bodies = (ms: Message[]) => ms.map((m) => m.body);

describe("deliverEach without a turn per message", () => {
  test("DELIVERED counts each message; a stop requested inside a delivery ends the walk after it", async () => {
    using dir = tempDir();
    await using broker = await openBroker(join(dir.path, "d.db"));
    await broker.write("q", ["a", "b", "c", "d", "e"]);
    const stop = new AbortController();
    const got: string[] = [];
    const result = await broker.deliver(
      { queue: "q", kind: "claim", selection: {} },
      (m) => {
        got.push(m.body);
        if (m.body === "b") stop.abort("enough");
        return DELIVERED;
      },
      stop.signal,
    );
    expect(result).toEqual({ delivered: 2, stopped: "enough" });
    expect(got).toEqual(["a", "b"]);
    expect(bodies(await broker.peek("q", { limit: 10 }))).toEqual(["c", "d", "e"]);
  });

  test("an already-rejected delivery puts its message and the rest of its page back", async () => {
    using dir = tempDir();
    await using broker = await openBroker(join(dir.path, "d.db"));
    await broker.write("q", ["a", "b", "c", "d"]);
    const failure = new Error("stdout gone");
    const run = broker.deliver({ queue: "q", kind: "move", destination: "q2", selection: {}, pageSize: 10 }, (m) =>
      m.body === "b" ? Promise.reject(failure) : DELIVERED,
    );
    expect(run).rejects.toBe(failure);
    await run.catch(() => {});
    expect(bodies(await broker.peek("q", { limit: 10 }))).toEqual(["b", "c", "d"]);
    expect(bodies(await broker.peek("q2", { limit: 10 }))).toEqual(["a"]);
  });

  test("a source that answers later, and deliveries that finish later, are waited for in order", async () => {
    const pending = ["a", "b", "c"].map((body, i) => ({ body, ts: BigInt(i + 1) }));
    const later = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 1));
    const source: AsyncSource = {
      take: (sel) => later(pending.splice(0, sel.limit ?? 1)),
      reserve: () => Promise.reject(new Error("not used")),
      putBack: async (m) => void pending.unshift(m),
    };
    const got: string[] = [];
    const result = await deliverEach(walk({ kind: "claim", selection: {} }), source, async (m) => {
      await later(undefined);
      got.push(m.body);
    });
    expect(result).toEqual({ delivered: 3 });
    expect(got).toEqual(["a", "b", "c"]);
  });
});
