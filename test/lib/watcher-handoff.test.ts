// Direct hand-over (the offerIdle capability, lib/backends/sqlite/local.ts): a write in this process to a
// queue that a watcher of this process is idly waiting on gives the message to
// that watcher inside the write's transaction. Consume: inserted claimed (one
// transaction instead of two); peek: a copy. Never out of order, never twice,
// and a watcher that stops first puts its message back.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Queue, QueueWatcher, type Message } from "../../index.ts";
import { idleConsumersFor } from "../../lib/backends/sqlite/local.ts";
import { tempDir } from "../helpers.ts";

const ANY_ID = (1n << 62n) - 1n;

function collector() {
  const got: Message[] = [];
  let waiting: { n: number; resolve: () => void } | undefined;
  return {
    got,
    bodies: () => got.map((m) => m.body),
    handler: (m: Message) => {
      got.push(m);
      if (waiting && got.length >= waiting.n) waiting.resolve();
    },
    until: (n: number) => (got.length >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { n, resolve }))),
  };
}

/** Resolve once a watcher of this process waits idly on `queue` of `db` (its offer is registered). */
async function idle(db: string, queue = "jobs"): Promise<void> {
  for (let i = 0; i < 2000 && idleConsumersFor(db, queue, ANY_ID).length === 0; i++) await Bun.sleep(1);
  expect(idleConsumersFor(db, queue, ANY_ID).length).toBeGreaterThan(0);
}

/** A message written by another connection that does not notify this process (like a Python peer). */
function foreignWrite(db: string, body: string): bigint {
  const raw = new Database(db, { safeIntegers: true });
  try {
    raw.run("BEGIN IMMEDIATE");
    const last = (raw.query("SELECT value FROM meta WHERE key = 'last_ts'").get() as { value: bigint }).value;
    const ts = last + 4096n;
    raw.run("INSERT INTO messages (queue, body, ts) VALUES ('jobs', ?, ?)", [body, ts]);
    raw.run("UPDATE meta SET value = ? WHERE key = 'last_ts'", [ts]);
    raw.run("COMMIT");
    return ts;
  } finally {
    raw.close();
  }
}

function setup() {
  const dir = tempDir("sb-handoff-");
  const db = join(dir.path, "test.db");
  const q = new Queue("jobs", { dbPath: db, persistent: true });
  q.generateTimestamp(); // creates the file
  return { db, q, [Symbol.dispose]: () => (q.close(), dir[Symbol.dispose]()) };
}

describe("hand-over to an idle watcher of this process", () => {
  test("consume: the write commits the message already claimed, and the watcher gets it", async () => {
    using t = setup();
    const c = collector();
    await using _w = new QueueWatcher("jobs", c.handler, { db: t.db }).start();
    await idle(t.db);
    const id = t.q.write("direct");
    // Synchronously after write(): no claim transaction has run, yet the message is claimed.
    expect(t.q.stats()).toMatchObject({ pending: 0, claimed: 1 });
    await c.until(1);
    expect(c.got).toEqual([{ body: "direct", ts: id }]);
  });

  test("consume: an older message from another connection goes first; nothing is skipped", async () => {
    using t = setup();
    const c = collector();
    await using _w = new QueueWatcher("jobs", c.handler, { db: t.db }).start();
    await idle(t.db);
    const older = foreignWrite(t.db, "older");
    const newer = t.q.write("newer");
    expect(t.q.stats()).toMatchObject({ pending: 2, claimed: 0 }); // not handed over: "older" is pending
    await c.until(2);
    expect(c.got).toEqual([
      { body: "older", ts: older },
      { body: "newer", ts: newer },
    ]);
  });

  test("consume: a watcher stopped before it yields the message puts it back unread", async () => {
    using t = setup();
    const c = collector();
    const w = new QueueWatcher("jobs", c.handler, { db: t.db }).start();
    await idle(t.db);
    const id = t.q.write("returned");
    expect(t.q.stats()).toMatchObject({ pending: 0, claimed: 1 });
    await w.stop();
    expect(c.got).toEqual([]);
    expect(t.q.stats()).toMatchObject({ pending: 1, claimed: 0 });
    expect(t.q.readOne()).toEqual({ body: "returned", ts: id });
  });

  test("consume: two watchers and a burst of writes: every message exactly once, in order per watcher", async () => {
    using t = setup();
    const a = collector();
    const b = collector();
    await using _wa = new QueueWatcher("jobs", a.handler, { db: t.db }).start();
    await using _wb = new QueueWatcher("jobs", b.handler, { db: t.db }).start();
    await idle(t.db);
    const ids: bigint[] = [];
    for (let i = 0; i < 60; i++) {
      ids.push(t.q.write(`m${i}`));
      if (i % 3 === 0) await Bun.sleep(0); // sometimes let the watchers run, sometimes burst
    }
    while (a.got.length + b.got.length < 60) await Bun.sleep(1);
    const all = [...a.got, ...b.got].map((m) => m.ts).sort((x, y) => (x < y ? -1 : 1));
    expect(all).toEqual(ids);
    for (const got of [a.got, b.got])
      expect(got.map((m) => m.ts)).toEqual([...got.map((m) => m.ts)].sort((x, y) => (x < y ? -1 : 1)));
    expect(t.q.stats()).toMatchObject({ pending: 0, claimed: 60 });
  });

  test("peek: the watcher gets a copy, the message stays pending, and an older foreign one is not skipped", async () => {
    using t = setup();
    const c = collector();
    await using _w = new QueueWatcher("jobs", c.handler, { db: t.db, peek: true }).start();
    await idle(t.db);
    const first = t.q.write("first");
    expect(t.q.stats()).toMatchObject({ pending: 1, claimed: 0 });
    await c.until(1);
    await idle(t.db);
    const older = foreignWrite(t.db, "older");
    const newer = t.q.write("newer");
    await c.until(3);
    expect(c.got).toEqual([
      { body: "first", ts: first },
      { body: "older", ts: older },
      { body: "newer", ts: newer },
    ]);
    expect(t.q.stats()).toMatchObject({ pending: 3, claimed: 0 });
  });

  test("a consuming watcher with --after only takes newer messages; writes to other queues are not handed over", async () => {
    using t = setup();
    const c = collector();
    const future = t.q.generateTimestamp() + (1n << 40n);
    await using _w = new QueueWatcher("jobs", c.handler, { db: t.db, after: future }).start();
    const other = new Queue("other", { dbPath: t.db, persistent: true });
    try {
      await idle(t.db);
      t.q.write("before the bound");
      other.write("elsewhere");
      expect(t.q.stats()).toMatchObject({ pending: 1, claimed: 0 });
      expect(other.stats()).toMatchObject({ pending: 1, claimed: 0 });
    } finally {
      other.close();
    }
    expect(c.got).toEqual([]);
  });
});
