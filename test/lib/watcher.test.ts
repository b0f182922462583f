// QueueWatcher (consume and peek) and the watcher lifecycle (docs/compatibility.md#watchers),
// driven in one process. No sleeps: every wait is on a promise that a
// handler resolves. Move watchers and queue.watch(): watcher-move.test.ts.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ActivityMonitor, Queue, QueueWatcher, openBroker, type Message } from "../../index.ts";
import { tempDir } from "../helpers.ts";

/** A promise with its resolve function. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A handler that records messages and resolves `until(n)` once n have arrived. */
function collector() {
  const got: Message[] = [];
  const waits: Array<{ n: number; resolve: () => void }> = [];
  return {
    got,
    bodies: () => got.map((m) => m.body),
    handler: (m: Message) => {
      got.push(m);
      for (const w of waits.filter((w) => got.length >= w.n)) w.resolve();
    },
    until(n: number): Promise<void> {
      if (got.length >= n) return Promise.resolve();
      const d = deferred();
      waits.push({ n, resolve: d.resolve });
      return d.promise;
    },
  };
}

function setup() {
  const dir = tempDir("sb-watch-");
  const db = join(dir.path, "test.db");
  const q = new Queue("jobs", { dbPath: db });
  return { db, q, [Symbol.dispose]: () => (q.close(), dir[Symbol.dispose]()) };
}

describe("QueueWatcher, consume mode", () => {
  test("a message written after start arrives, and is consumed", async () => {
    using t = setup();
    const c = collector();
    await using w = new QueueWatcher("jobs", c.handler, { db: t.db }).start();
    const id = t.q.write("hello");
    await c.until(1);
    expect(c.got).toEqual([{ body: "hello", ts: id }]);
    expect(t.q.stats()).toMatchObject({ pending: 0, claimed: 1 });
    expect(w.isRunning).toBe(true);
  });

  test("messages already pending are drained first, oldest first", async () => {
    using t = setup();
    t.q.writeMany(["1", "2", "3"]);
    const c = collector();
    await using _w = new QueueWatcher(t.q, c.handler, { db: t.db }).start();
    await c.until(3);
    t.q.write("4");
    await c.until(4);
    expect(c.bodies()).toEqual(["1", "2", "3", "4"]);
  });

  test("handler errors go to the errorHandler with the message; the watcher continues", async () => {
    using t = setup();
    const c = collector();
    const errors: Array<[string, string | undefined]> = [];
    await using _w = new QueueWatcher(
      "jobs",
      (m) => {
        if (m.body === "bad") throw new Error("cannot handle bad");
        c.handler(m);
      },
      { db: t.db, errorHandler: (e, m) => void errors.push([e.message, m?.body]) },
    ).start();
    t.q.writeMany(["bad", "good"]);
    await c.until(1);
    expect(c.bodies()).toEqual(["good"]);
    expect(errors).toEqual([["cannot handle bad", "bad"]]);
    // Consumed before the handler ran: the failed message is gone, as in 3.6.1.
    expect(t.q.stats()).toMatchObject({ pending: 0, claimed: 2 });
  });

  test("async handlers are awaited; their rejections reach the errorHandler", async () => {
    using t = setup();
    const failed = deferred<string>();
    await using _w = new QueueWatcher(
      "jobs",
      async (m) => {
        await Promise.resolve();
        throw new Error(`async ${m.body}`);
      },
      { db: t.db, errorHandler: (e) => failed.resolve(e.message) },
    ).start();
    t.q.write("x");
    expect(await failed.promise).toBe("async x");
  });

  test("an errorHandler returning false stops the watcher", async () => {
    using t = setup();
    const w = new QueueWatcher(
      "jobs",
      () => {
        throw new Error("fatal");
      },
      { db: t.db, errorHandler: () => false },
    );
    const done = w.run();
    t.q.writeMany(["first", "second"]);
    await done; // run() resolves once the watcher stopped
    expect(w.isRunning).toBe(false);
    expect(t.q.peekMany().map((m) => m.body)).toEqual(["second"]);
  });

  test("a message above maxMessageSize is not handed to the handler", async () => {
    using t = setup();
    const c = collector();
    const errors: string[] = [];
    await using _w = new QueueWatcher("jobs", c.handler, {
      db: t.db,
      config: { maxMessageSize: 5 },
      errorHandler: (e) => void errors.push(e.message),
    }).start();
    t.q.write("too long for the watcher"); // the writer's own limit is the default
    t.q.write("ok");
    await c.until(1);
    expect(c.bodies()).toEqual(["ok"]);
    expect(errors).toEqual(["Message size (24 bytes) exceeds 5 byte limit"]);
  });

  test("after: only newer messages are consumed (Q5 fixed); older ones stay", async () => {
    using t = setup();
    const [old, newer] = t.q.writeMany(["old", "newer"]);
    const c = collector();
    await using _w = new QueueWatcher("jobs", c.handler, { db: t.db, after: old! }).start();
    await c.until(1);
    t.q.write("newest");
    await c.until(2);
    expect(c.got[0]).toEqual({ body: "newer", ts: newer! });
    expect(c.bodies()).toEqual(["newer", "newest"]);
    expect(t.q.peekMany().map((m) => m.body)).toEqual(["old"]);
  });
});

describe("QueueWatcher, peek mode", () => {
  test("leaves messages in the queue and never repeats one", async () => {
    using t = setup();
    t.q.writeMany(["a", "b"]);
    const c = collector();
    await using _w = new QueueWatcher("jobs", c.handler, { db: t.db, peek: true }).start();
    await c.until(2);
    t.q.write("c");
    await c.until(3);
    // Had a or b been delivered again, they would sit before c.
    expect(c.bodies()).toEqual(["a", "b", "c"]);
    expect(t.q.stats()).toMatchObject({ pending: 3, claimed: 0 });
  });

  test("after: only messages newer than the bound are shown", async () => {
    using t = setup();
    const [a] = t.q.writeMany(["a", "b"]);
    const c = collector();
    await using _w = new QueueWatcher("jobs", c.handler, { db: t.db, peek: true, after: a! }).start();
    t.q.write("c");
    await c.until(2);
    expect(c.bodies()).toEqual(["b", "c"]);
  });
});

describe("watcher lifecycle", () => {
  test("start/stop/isRunning; stop is idempotent and ends run()", async () => {
    using t = setup();
    const c = collector();
    const w = new QueueWatcher("jobs", c.handler, { db: t.db });
    expect(w.isRunning).toBe(true); // Python: the stop event is not set
    expect(w.start()).toBe(w);
    const running = w.run(); // same loop as start()
    t.q.write("x");
    await c.until(1);
    await w.stop();
    await w.stop();
    await running;
    expect(w.isRunning).toBe(false);
    // A stopped watcher consumes nothing more.
    t.q.write("after stop");
    expect(t.q.peekMany().map((m) => m.body)).toEqual(["after stop"]);
  });

  test("an AbortSignal stops the watcher", async () => {
    using t = setup();
    const ac = new AbortController();
    const c = collector();
    const w = new QueueWatcher("jobs", c.handler, { db: t.db, signal: ac.signal });
    const done = w.run();
    t.q.write("x");
    await c.until(1);
    ac.abort();
    await done;
    expect(w.isRunning).toBe(false);
  });

  test("a signal aborted before construction never runs the handler", async () => {
    using t = setup();
    t.q.write("x");
    const c = collector();
    const w = new QueueWatcher("jobs", c.handler, { db: t.db, signal: AbortSignal.abort() });
    expect(w.isRunning).toBe(false);
    await w.run();
    expect(c.got).toEqual([]);
    expect(t.q.stats().pending).toBe(1);
  });

  test("await using stops the watcher at the end of the block", async () => {
    using t = setup();
    const c = collector();
    let escaped: QueueWatcher;
    {
      await using w = new QueueWatcher("jobs", c.handler, { db: t.db }).start();
      escaped = w;
      t.q.write("x");
      await c.until(1);
    }
    expect(escaped.isRunning).toBe(false);
  });

  test("handler and errorHandler must be functions", () => {
    expect(() => new QueueWatcher("jobs", 42 as never)).toThrow("handler must be callable, got number");
    expect(() => new QueueWatcher("jobs", () => {}, { errorHandler: "x" as never })).toThrow(TypeError);
  });

  test("an invalid queue name makes run() reject", async () => {
    using t = setup();
    await expect(new QueueWatcher("bad name", () => {}, { db: t.db }).run()).rejects.toThrow("Invalid queue name");
  });
});

describe("ActivityMonitor", () => {
  test("markActive makes the next wait return at once; a write wakes a waiting monitor; close releases it", async () => {
    using t = setup();
    // A slow poll (first backoff step: 600 ms), so the wake-up comes from the write itself.
    await using broker = await openBroker(t.db, { config: { initialChecks: 0, maxInterval: 60 } });
    const monitor = new ActivityMonitor(broker.backend, ["jobs"], broker.config);
    const ac = new AbortController();
    try {
      monitor.markActive();
      await monitor.wait(ac.signal);
      const woken = monitor.wait(ac.signal);
      t.q.write("wake up");
      await woken;
      expect(await broker.hasPending("jobs")).toBe(true);
      const released = monitor.wait(ac.signal);
      ac.abort();
      await released;
    } finally {
      monitor.close();
    }
  });
});
