/**
 * The delivery core (lib/delivery) through `Broker.deliver` on a real SQLite
 * file: a message taken but not delivered is put back (with the rest of its
 * page), a stop request puts back what was taken after it, a stuck delivery
 * is given up after its grace, and peek walks page by id (each page starts
 * after the last id seen, never at an offset).
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openBroker, type Message } from "../../index.ts";
import { deliverEach, type AsyncSource } from "../../lib/delivery/drive.ts";
import { walk } from "../../lib/delivery/loops.ts";
import { putBack } from "../../lib/delivery/ops.ts";
import { tempDir } from "../helpers.ts";

async function brokerWith(dir: string, queue: string, bodies: string[]) {
  const broker = await openBroker(join(dir, "d.db"));
  await broker.write(queue, bodies);
  return broker;
}

const bodies = (ms: Message[]) => ms.map((m) => m.body);

describe("Broker.deliver", () => {
  test("a claimed message the consumer did not take goes back, pending, with its id", async () => {
    using dir = tempDir();
    await using broker = await brokerWith(dir.path, "q", ["a", "b", "c", "d"]);
    const got: string[] = [];
    const failure = new Error("consumer gone");
    const run = broker.deliver({ queue: "q", kind: "claim", selection: {} }, async (m) => {
      if (m.body === "c") throw failure;
      got.push(m.body);
    });
    expect(run).rejects.toBe(failure);
    await run.catch(() => {});
    expect(got).toEqual(["a", "b"]);
    expect(bodies(await broker.peek("q", { limit: 10 }))).toEqual(["c", "d"]);
    expect(await broker.queueStats("q")).toMatchObject({ pending: 2, claimed: 2 });
  });

  test("a move page that was not delivered moves back to its source", async () => {
    using dir = tempDir();
    await using broker = await brokerWith(dir.path, "src", ["1", "2", "3", "4", "5"]);
    const got: string[] = [];
    const run = broker.deliver({ queue: "src", destination: "dst", kind: "move", selection: {}, pageSize: 3 }, async (m) => {
      if (m.body === "2") throw new Error("stop");
      got.push(m.body);
    });
    await run.catch(() => {});
    expect(got).toEqual(["1"]);
    expect(bodies(await broker.peek("dst", { limit: 10 }))).toEqual(["1"]);
    expect(bodies(await broker.peek("src", { limit: 10 }))).toEqual(["2", "3", "4", "5"]);
  });

  test("a stop request ends the walk; what was taken after it goes back", async () => {
    using dir = tempDir();
    await using broker = await brokerWith(dir.path, "q", ["a", "b", "c"]);
    const stop = new AbortController();
    const got: string[] = [];
    const result = await broker.deliver(
      { queue: "q", kind: "claim", selection: {} },
      async (m) => {
        got.push(m.body);
        if (m.body === "b") stop.abort("SIGTERM");
      },
      stop.signal,
    );
    expect(result).toEqual({ delivered: 2, stopped: "SIGTERM" });
    expect(got).toEqual(["a", "b"]);
    expect(bodies(await broker.peek("q", { limit: 10 }))).toEqual(["c"]);
  });

  test("a delivery still stuck after its grace is given up and its message put back", async () => {
    using dir = tempDir();
    await using broker = await brokerWith(dir.path, "q", ["a", "b"]);
    const stop = new AbortController();
    const source: AsyncSource = {
      take: (sel) => broker.read("q", sel),
      reserve: () => Promise.reject(new Error("unused")),
      putBack: async (m) => void (await putBack(broker.backend, "q", m)),
    };
    const stuck = new Promise<void>(() => {});
    const result = await deliverEach(
      walk({ kind: "claim", selection: {} }),
      source,
      () => (stop.abort("SIGHUP"), stuck),
      stop.signal,
      10,
    );
    expect(result).toEqual({ delivered: 0, stopped: "SIGHUP" });
    expect(bodies(await broker.peek("q", { limit: 10 }))).toEqual(["a", "b"]);
  });

  test("max bounds the whole walk", async () => {
    using dir = tempDir();
    await using broker = await brokerWith(dir.path, "src", ["1", "2", "3", "4", "5"]);
    const got: string[] = [];
    const plan = { queue: "src", destination: "dst", kind: "move" as const, selection: {}, pageSize: 2, max: 3 };
    expect(await broker.deliver(plan, async (m) => void got.push(m.body))).toEqual({ delivered: 3 });
    expect(got).toEqual(["1", "2", "3"]);
    expect(bodies(await broker.peek("src", { limit: 10 }))).toEqual(["4", "5"]);
  });
});

describe("peek walks", () => {
  test("page by id: each page starts after the last id seen, never at an offset", async () => {
    using dir = tempDir();
    const written = Array.from({ length: 25 }, (_, i) => `m${i}`);
    await using broker = await brokerWith(dir.path, "q", written);
    const takes: Array<{ after?: bigint; offset?: number; limit?: number }> = [];
    const source: AsyncSource = {
      take: (sel) => (takes.push({ after: sel.after, offset: sel.offset, limit: sel.limit }), broker.peek("q", sel)),
      reserve: () => Promise.reject(new Error("unused")),
      putBack: () => Promise.reject(new Error("a peek puts nothing back")),
    };
    const got: Message[] = [];
    await deliverEach(walk({ kind: "peek", selection: {}, pageSize: 10 }), source, async (m) => void got.push(m));
    expect(bodies(got)).toEqual(written);
    expect(takes).toEqual([
      { after: undefined, offset: undefined, limit: 10 },
      { after: got[9]!.ts, offset: undefined, limit: 10 },
      { after: got[19]!.ts, offset: undefined, limit: 10 },
    ]);
  });
});
