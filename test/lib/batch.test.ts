// Semantics of the batch paths (issue 6): writeMany is one transaction with
// ids in order; writeAsync group commit gives every caller its own committed
// id, keeps each caller's order, and fails per batch as defined below;
// readMany / moveMany deliver exactly once under concurrent consumers.
// No timings are asserted here: speed is measured by `bun run bench`.
//
// writeAsync failure semantics (defined here, implemented in lib/queue/queue.ts):
//   - a call whose own input is invalid (queue name, message size) rejects at
//     once and alone; it never joins a batch;
//   - a batch is one transaction: if the database refuses it, every caller of
//     that batch rejects with the same error and none of its messages is
//     committed; later batches are unaffected.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { MessageError, Queue } from "../../index.ts";
import { tempDir } from "../helpers.ts";

const INDEX = resolve(import.meta.dir, "../../index.ts");

/** A raw connection to check what is committed, independent of our code. */
function rawReader(path: string): Database {
  const db = new Database(path, { safeIntegers: true });
  db.run("PRAGMA busy_timeout = 5000");
  return db;
}

/** Make the database itself refuse any message whose body is `poison` (a trigger, from outside our code). */
function poisonTrigger(path: string): void {
  const db = rawReader(path);
  db.run(
    "CREATE TRIGGER refuse_poison BEFORE INSERT ON messages WHEN NEW.body = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned message'); END",
  );
  db.close();
}

function committedBodies(path: string, queue: string): string[] {
  const db = rawReader(path);
  try {
    return (db.query("SELECT body FROM messages WHERE queue = ? ORDER BY id").all(queue) as { body: string }[]).map(
      (r) => r.body,
    );
  } finally {
    db.close();
  }
}

function waitForFile(path: string, timeoutMs = 20_000): void {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}`);
    Bun.sleepSync(2);
  }
}

function ascending(ids: bigint[]): boolean {
  return ids.every((id, i) => i === 0 || ids[i - 1]! < id);
}

describe("writeMany", () => {
  test("returns strictly increasing ids in body order; reads return the same order", () => {
    using d = tempDir("sb-batch-");
    using q = new Queue("q", { dbPath: join(d.path, "b.db") });
    const bodies = Array.from({ length: 250 }, (_, i) => `m${i}`);
    const ids = q.writeMany(bodies);
    expect(ids).toHaveLength(250);
    expect(ascending(ids)).toBe(true);
    expect(q.writeMany([])).toEqual([]);
    const more = q.writeMany(["after"]);
    expect(more[0]! > ids[ids.length - 1]!).toBe(true);
    const read = q.readMany(1000);
    expect(read.map((m) => m.body)).toEqual([...bodies, "after"]);
    expect(read.map((m) => m.ts)).toEqual([...ids, ...more]);
  });

  test("all or nothing: an oversize body anywhere in the batch writes none of it", () => {
    using d = tempDir("sb-batch-");
    const path = join(d.path, "b.db");
    using q = new Queue("q", { dbPath: path, config: { maxMessageSize: 8 } });
    q.write("before");
    expect(() => q.writeMany(["ok", "ok too", "much too long", "never"])).toThrow(MessageError);
    expect(committedBodies(path, "q")).toEqual(["before"]);
  });

  test("all or nothing: a database error in the middle of a batch rolls the whole batch back", () => {
    using d = tempDir("sb-batch-");
    const path = join(d.path, "b.db");
    for (const persistent of [false, true]) {
      using q = new Queue("q", { dbPath: path, persistent });
      q.write(`before ${persistent}`);
      if (!persistent) poisonTrigger(path);
      expect(() => q.writeMany(["first", "second", "poison", "last"])).toThrow("poisoned message");
      expect(q.writeMany([`after ${persistent}`])).toHaveLength(1);
    }
    expect(committedBodies(path, "q")).toEqual(["before false", "after false", "before true", "after true"]);
  });

  test("one transaction: a reader in another process never sees part of a batch", async () => {
    using d = tempDir("sb-batch-");
    const path = join(d.path, "b.db");
    const ready = join(d.path, "reader.ready");
    const batches = 20;
    const size = 500;
    using q = new Queue("b", { dbPath: path, persistent: true, config: { syncMode: "OFF" } });
    q.generateTimestamp(); // creates the file with its schema
    const reader = join(d.path, "reader.ts");
    writeFileSync(
      reader,
      `import { Database } from "bun:sqlite";
import { writeFileSync } from "node:fs";
const [path, ready, total] = process.argv.slice(2);
const db = new Database(path);
db.run("PRAGMA busy_timeout = 5000");
const count = db.query("SELECT COUNT(*) AS n FROM messages WHERE queue = 'b'");
const seen = new Set();
writeFileSync(ready, "");
const deadline = Date.now() + 30000;
for (;;) {
  const n = Number(count.get().n);
  seen.add(n);
  if (n >= Number(total) || Date.now() > deadline) break;
}
console.log(JSON.stringify([...seen]));
`,
    );
    const proc = Bun.spawn([process.execPath, reader, path, ready, String(batches * size)], { stdout: "pipe", stderr: "pipe" });
    waitForFile(ready);
    for (let b = 0; b < batches; b++) {
      q.writeMany(Array.from({ length: size }, (_, i) => `batch ${b} message ${i}`));
      Bun.sleepSync(2); // let the reader look between batches
    }
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const seen = JSON.parse(out) as number[];
    expect(seen).toContain(batches * size);
    for (const n of seen) expect(n % size).toBe(0);
  }, 60_000);
});

describe("writeAsync group commit", () => {
  for (const persistent of [true, false]) {
    test(`64 concurrent writers x 20 (${persistent ? "persistent" : "ephemeral"}): distinct ids, per-writer order, committed on resolve`, async () => {
      using d = tempDir("sb-batch-");
      const path = join(d.path, "g.db");
      using q = new Queue("g", { dbPath: path, persistent });
      q.generateTimestamp();
      const check = rawReader(path);
      const byId = check.query("SELECT body, queue FROM messages WHERE ts = ?");
      const writers = 64;
      const each = 20;
      const invisible: string[] = [];
      const perWriter = await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          const ids: bigint[] = [];
          for (let i = 0; i < each; i++) {
            const body = `w${w} #${i}`;
            const id = await q.writeAsync(body);
            // Resolved means committed: another connection sees the row right now.
            const row = byId.get(id) as { body: string; queue: string } | null;
            if (row?.body !== body || row.queue !== "g") invisible.push(`${body} -> ${id}`);
            ids.push(id);
          }
          return ids;
        }),
      );
      expect(invisible).toEqual([]);
      for (const ids of perWriter) expect(ascending(ids)).toBe(true);
      const all = perWriter.flat();
      expect(new Set(all).size).toBe(writers * each);
      const rows = check.query("SELECT ts, body FROM messages WHERE queue = 'g' ORDER BY id").all() as {
        ts: bigint;
        body: string;
      }[];
      expect(rows).toHaveLength(writers * each);
      expect(ascending(rows.map((r) => r.ts))).toBe(true); // id order = insertion order = ts order
      const idOf = new Map(rows.map((r) => [r.body, r.ts]));
      perWriter.forEach((ids, w) => ids.forEach((id, i) => expect(idOf.get(`w${w} #${i}`)).toBe(id)));
      check.close();
    }, 60_000);
  }

  test("calls issued together resolve in call order with increasing ids", async () => {
    using d = tempDir("sb-batch-");
    using q = new Queue("g", { dbPath: join(d.path, "g.db"), persistent: true });
    const bodies = Array.from({ length: 100 }, (_, i) => `n${i}`);
    const ids = await Promise.all(bodies.map((b) => q.writeAsync(b)));
    expect(ascending(ids)).toBe(true);
    expect(q.peekMany(1000).map((m) => m.body)).toEqual(bodies);
  });

  test("an invalid call rejects alone and never joins the batch", async () => {
    using d = tempDir("sb-batch-");
    const path = join(d.path, "g.db");
    using q = new Queue("g", { dbPath: path, persistent: true, config: { maxMessageSize: 5 } });
    const results = await Promise.allSettled(["one", "too long", "two", "three"].map((b) => q.writeAsync(b)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(MessageError);
    expect(committedBodies(path, "g")).toEqual(["one", "two", "three"]);
    using bad = new Queue("bad name!", { dbPath: path, persistent: true });
    await expect(bad.writeAsync("x")).rejects.toThrow("Invalid queue name");
  });

  test("a batch the database refuses rejects every caller of that batch and commits none of it", async () => {
    using d = tempDir("sb-batch-");
    const path = join(d.path, "g.db");
    using q = new Queue("g", { dbPath: path, persistent: true });
    expect(await q.writeAsync("before")).toBeGreaterThan(0n);
    poisonTrigger(path);
    const together = await Promise.allSettled(["a", "poison", "b"].map((b) => q.writeAsync(b)));
    expect(together.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    for (const r of together) expect(String((r as PromiseRejectedResult).reason)).toContain("poisoned message");
    // The next batch is a new transaction and goes through.
    const after = await Promise.all(["c", "d"].map((b) => q.writeAsync(b)));
    expect(ascending(after)).toBe(true);
    expect(committedBodies(path, "g")).toEqual(["before", "c", "d"]);
  });

  test("an unusable database rejects every caller of the batch", async () => {
    using d = tempDir("sb-batch-");
    const path = join(d.path, "not-a-db.db");
    writeFileSync(path, "this is not a SQLite database, just text that is long enough");
    using q = new Queue("g", { dbPath: path, persistent: true });
    const results = await Promise.allSettled(["a", "b", "c"].map((b) => q.writeAsync(b)));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(String((results[0] as PromiseRejectedResult).reason)).toContain("not a valid SQLite database");
  });

  test("close() commits queued writes; writeAsync after close rejects", async () => {
    using d = tempDir("sb-batch-");
    const path = join(d.path, "g.db");
    const q = new Queue("g", { dbPath: path, persistent: true });
    const pending = ["x", "y"].map((b) => q.writeAsync(b));
    q.close();
    expect(committedBodies(path, "g")).toEqual(["x", "y"]); // committed synchronously by close()
    expect(ascending(await Promise.all(pending))).toBe(true);
    await expect(q.writeAsync("late")).rejects.toThrow("closed");
    expect(committedBodies(path, "g")).toEqual(["x", "y"]);
  });
});

describe("readMany / moveMany exactly once", () => {
  test("readMany claims the oldest first and never returns a message twice", () => {
    using d = tempDir("sb-batch-");
    using q = new Queue("q", { dbPath: join(d.path, "r.db") });
    const ids = q.writeMany(Array.from({ length: 25 }, (_, i) => `m${i}`));
    const first = q.readMany(10);
    const second = q.readMany(10);
    const third = q.readMany(10);
    expect(first.map((m) => m.ts)).toEqual(ids.slice(0, 10));
    expect(second.map((m) => m.ts)).toEqual(ids.slice(10, 20));
    expect(third.map((m) => m.ts)).toEqual(ids.slice(20));
    expect(q.readMany(10)).toEqual([]);
    expect(q.stats()).toMatchObject({ pending: 0, claimed: 25 });
  });

  test("moveMany moves each message once, in order, and the moved rows are pending at the target", () => {
    using d = tempDir("sb-batch-");
    const path = join(d.path, "m.db");
    using src = new Queue("src", { dbPath: path });
    using dst = new Queue("dst", { dbPath: path });
    const ids = src.writeMany(Array.from({ length: 12 }, (_, i) => `m${i}`));
    expect(src.moveMany("dst", 5).map((m) => m.ts)).toEqual(ids.slice(0, 5));
    expect(src.moveMany(dst, 100).map((m) => m.ts)).toEqual(ids.slice(5));
    expect(src.moveMany("dst", 5)).toEqual([]);
    expect(dst.readMany(100).map((m) => m.ts)).toEqual(ids);
  });

  test("an at-least-once batch stopped early is rolled back as a whole", () => {
    using d = tempDir("sb-batch-");
    using q = new Queue("q", { dbPath: join(d.path, "r.db") });
    q.writeMany(["1", "2", "3", "4", "5"]);
    for (const m of q.readGenerator({ deliveryGuarantee: "at-least-once", batchSize: 3 })) {
      expect(m.body).toBe("1");
      break;
    }
    expect(q.stats()).toMatchObject({ pending: 5, claimed: 0 });
    const moved: string[] = [];
    for (const m of q.moveGenerator("other", { deliveryGuarantee: "at-least-once", batchSize: 2 })) {
      moved.push(m.body);
      if (moved.length === 3) break; // the first batch [1, 2] is committed, [3, 4] rolled back
    }
    expect(q.peekMany(10).map((m) => m.body)).toEqual(["3", "4", "5"]);
  });

  for (const mode of ["read", "move"] as const) {
    test(`${mode}Many with 4 competing processes: every message delivered exactly once`, async () => {
      using d = tempDir("sb-batch-");
      const path = join(d.path, "c.db");
      const go = join(d.path, "go");
      const n = 600;
      using q = new Queue("src", { dbPath: path, config: { syncMode: "OFF" } });
      const ids = q.writeMany(Array.from({ length: n }, (_, i) => `m${i}`));
      const worker = join(d.path, "worker.ts");
      writeFileSync(
        worker,
        `import { existsSync } from "node:fs";
import { Queue } from ${JSON.stringify(INDEX)};
const [path, mode, go] = process.argv.slice(2);
const q = new Queue("src", { dbPath: path, persistent: true, config: { syncMode: "OFF" } });
while (!existsSync(go)) Bun.sleepSync(1);
const got = [];
for (;;) {
  const batch = mode === "read" ? q.readMany(7) : q.moveMany("dst", 5);
  if (batch.length === 0) break;
  for (const m of batch) got.push(m.ts.toString());
}
q.close();
console.log(JSON.stringify(got));
`,
      );
      const procs = Array.from({ length: 4 }, () =>
        Bun.spawn([process.execPath, worker, path, mode, go], { stdout: "pipe", stderr: "pipe" }),
      );
      Bun.sleepSync(50);
      writeFileSync(go, "");
      const outs = await Promise.all(
        procs.map(async (p) => {
          const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
          expect(err).toBe("");
          expect(code).toBe(0);
          return (JSON.parse(out) as string[]).map(BigInt);
        }),
      );
      for (const got of outs) expect(ascending(got)).toBe(true); // each consumer sees FIFO order
      const all = outs.flat();
      expect(all).toHaveLength(n);
      expect(new Set(all).size).toBe(n);
      expect([...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(ids);
      expect(q.stats()).toMatchObject({ pending: 0 });
      if (mode === "move") {
        using dst = new Queue("dst", { dbPath: path });
        expect(dst.peekMany(n + 1).map((m) => m.ts)).toEqual(ids);
      }
    }, 60_000);
  }
});
