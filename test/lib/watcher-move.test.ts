// QueueMoveWatcher, queue.watch() and watchQueue (docs/compatibility.md#watchers), in one
// process. No sleeps: waits are on promises resolved by handlers.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Queue, QueueMoveWatcher, openBroker, watchQueue, type Message } from "../../index.ts";
import { tempDir } from "../helpers.ts";

function setup() {
  const dir = tempDir("sb-watch-");
  const db = join(dir.path, "test.db");
  const q = new Queue("jobs", { dbPath: db });
  const done = new Queue("done", { dbPath: db });
  return { db, q, done, [Symbol.dispose]: () => (q.close(), done.close(), dir[Symbol.dispose]()) };
}

describe("QueueMoveWatcher", () => {
  test("moves each message, then dispatches it", async () => {
    using t = setup();
    const seen: Array<{ m: Message; inSource: boolean; inDest: boolean }> = [];
    let arrived!: () => void;
    const two = new Promise<void>((r) => (arrived = r));
    await using w = new QueueMoveWatcher(
      "jobs",
      "done",
      (m) => {
        // The move is committed before the handler runs.
        seen.push({ m, inSource: t.q.peekOne({ exactId: m.ts }) !== null, inDest: t.done.peekOne({ exactId: m.ts }) !== null });
        if (seen.length === 2) arrived();
      },
      { db: t.db },
    ).start();
    const first = t.q.write("one");
    const second = t.q.write("two");
    await two;
    expect(seen).toEqual([
      { m: { body: "one", ts: first }, inSource: false, inDest: true },
      { m: { body: "two", ts: second }, inSource: false, inDest: true },
    ]);
    expect(w.moveCount).toBe(2);
    expect(w.sourceQueue).toBe("jobs");
    expect(w.destQueue).toBe("done");
    expect(t.done.stats()).toMatchObject({ pending: 2, claimed: 0 });
  });

  test("maxMessages stops the watcher after that many moves", async () => {
    using t = setup();
    t.q.writeMany(["1", "2", "3"]);
    const got: string[] = [];
    const w = new QueueMoveWatcher(t.q, t.done, (m) => void got.push(m.body), { db: t.db, maxMessages: 2 });
    await w.run(); // resolves on its own
    expect(got).toEqual(["1", "2"]);
    expect(w.moveCount).toBe(2);
    expect(w.isRunning).toBe(false);
    expect(t.q.peekMany().map((m) => m.body)).toEqual(["3"]);
    expect(t.done.peekMany().map((m) => m.body)).toEqual(["1", "2"]);
  });

  test("the same source and destination is an error at construction", () => {
    expect(() => new QueueMoveWatcher("jobs", "jobs", () => {})).toThrow("Cannot move messages to the same queue");
    using t = setup();
    expect(() => new QueueMoveWatcher(t.q, "jobs", () => {}, { db: t.db })).toThrow("Cannot move messages to the same queue");
  });

  test("handler errors go to the errorHandler; the message stays moved", async () => {
    using t = setup();
    let failed!: (v: [string, string | undefined]) => void;
    const error = new Promise<[string, string | undefined]>((r) => (failed = r));
    await using _w = new QueueMoveWatcher(
      "jobs",
      "done",
      () => {
        throw new Error("nope");
      },
      { db: t.db, errorHandler: (e, m) => failed([e.message, m?.body]) },
    ).start();
    t.q.write("x");
    expect(await error).toEqual(["nope", "x"]);
    expect(t.done.peekOne()?.body).toBe("x");
  });

  test("an AbortSignal stops it", async () => {
    using t = setup();
    const ac = new AbortController();
    let moved!: () => void;
    const one = new Promise<void>((r) => (moved = r));
    const w = new QueueMoveWatcher("jobs", "done", () => moved(), { db: t.db, signal: ac.signal });
    const running = w.run();
    t.q.write("x");
    await one;
    ac.abort();
    await running;
    expect(w.isRunning).toBe(false);
  });
});

describe("queue.watch()", () => {
  test("yields messages as they arrive; break leaves un-yielded messages in the queue", async () => {
    using t = setup();
    t.q.writeMany(["a", "b", "c"]);
    const got: string[] = [];
    for await (const m of t.q.watch()) {
      got.push(m.body);
      if (got.length === 1) break;
    }
    expect(got).toEqual(["a"]);
    expect(t.q.peekMany().map((m) => m.body)).toEqual(["b", "c"]);
    expect(t.q.stats()).toMatchObject({ pending: 2, claimed: 1 });
  });

  test("waits for messages written later, by this process", async () => {
    using t = setup();
    using writer = new Queue("jobs", { dbPath: t.db, persistent: true });
    const got: string[] = [];
    const iterator = t.q.watch()[Symbol.asyncIterator]();
    const first = iterator.next(); // the watch starts and finds nothing
    writer.write("later");
    got.push((await first).value!.body);
    const second = iterator.next();
    writer.write("even later");
    got.push((await second).value!.body);
    await iterator.return?.();
    expect(got).toEqual(["later", "even later"]);
    expect(t.q.exists()).toBe(true);
    expect(t.q.hasPending()).toBe(false);
  });

  test("peek: true leaves everything; after filters", async () => {
    using t = setup();
    const [a] = t.q.writeMany(["a", "b", "c"]);
    const got: string[] = [];
    for await (const m of t.q.watch({ peek: true, after: a! })) {
      got.push(m.body);
      if (got.length === 2) break;
    }
    expect(got).toEqual(["b", "c"]);
    expect(t.q.stats().pending).toBe(3);
  });

  test("an AbortSignal ends the iteration", async () => {
    using t = setup();
    const ac = new AbortController();
    t.q.write("a");
    const got: string[] = [];
    for await (const m of t.q.watch({ signal: ac.signal })) {
      got.push(m.body);
      ac.abort(); // the loop ends instead of waiting for more
    }
    expect(got).toEqual(["a"]);
  });
});

describe("watchQueue", () => {
  test("on a path or on an open broker; @alias operands resolve", async () => {
    using t = setup();
    await using broker = await openBroker(t.db);
    await broker.addAlias("work", "jobs");
    t.q.writeMany(["x", "y"]);
    for await (const m of watchQueue("jobs", { target: t.db, peek: true })) {
      expect(m.body).toBe("x");
      break;
    }
    const got: string[] = [];
    for await (const m of watchQueue("@work", { target: broker })) {
      got.push(m.body);
      if (got.length === 2) break;
    }
    expect(got).toEqual(["x", "y"]);
    expect(t.q.hasPending()).toBe(false);
    // The broker passed in is not closed by the watch.
    expect((await broker.listStats()).map((s) => s.queue)).toEqual(["jobs"]);
  });
});
