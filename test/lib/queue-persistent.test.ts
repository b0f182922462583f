// Persistent Queue handles (one shared connection per database in the
// process), per-handle config overrides, and auto-vacuum (docs/compatibility.md#vacuum).
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "../../index.ts";
import { tempDir } from "../helpers.ts";

function db(): { path: string } & Disposable {
  const dir = tempDir("sb-persist-");
  return { path: join(dir.path, "test.db"), [Symbol.dispose]: () => dir[Symbol.dispose]() };
}

describe("persistent handles", () => {
  test("two persistent handles on one file share a connection; closing one leaves the other working", () => {
    using d = db();
    const a = new Queue("a", { dbPath: d.path, persistent: true });
    const b = new Queue("b", { dbPath: d.path, persistent: true });
    expect(a.persistent).toBe(true);
    a.write("from a");
    b.write("from b");
    // Shared connection: no other connection committed, so data_version is unchanged for both.
    const before = b.dataVersion();
    a.write("again");
    expect(b.dataVersion()).toBe(before);
    a.close();
    expect(() => a.write("x")).toThrow("closed");
    expect(b.write("still works")).toBeGreaterThan(0n);
    expect(b.readMany(10).map((m) => m.body)).toEqual(["from b", "still works"]);
    b.close();
    // Everything was committed: a brand-new handle sees it.
    using check = new Queue("a", { dbPath: d.path });
    expect(check.peekMany().map((m) => m.body)).toEqual(["from a", "again"]);
  });

  test("the last close releases the connection; a new persistent handle reopens it", () => {
    using d = db();
    const first = new Queue("q", { dbPath: d.path, persistent: true });
    first.write("1");
    first.close();
    using second = new Queue("q", { dbPath: d.path, persistent: true });
    expect(second.readOne()?.body).toBe("1");
  });

  test("dataVersion of a persistent handle changes when another connection commits", () => {
    using d = db();
    using q = new Queue("q", { dbPath: d.path, persistent: true });
    q.write("mine");
    const v1 = q.dataVersion();
    expect(q.dataVersion()).toBe(v1);
    using other = new Queue("q", { dbPath: d.path }); // ephemeral: its own connection
    other.write("theirs");
    expect(q.dataVersion()).not.toBe(v1);
  });

  test("writeAsync on a persistent handle; close flushes queued writes", async () => {
    using d = db();
    const q = new Queue("q", { dbPath: d.path, persistent: true });
    const ids = await Promise.all(["a", "b", "c"].map((b) => q.writeAsync(b)));
    expect(ids[0]! < ids[1]! && ids[1]! < ids[2]!).toBe(true);
    const late = q.writeAsync("queued before close");
    q.close();
    expect(typeof (await late)).toBe("bigint");
    using check = new Queue("q", { dbPath: d.path });
    expect(check.peekMany().map((m) => m.body)).toEqual(["a", "b", "c", "queued before close"]);
  });

  test("using disposes a persistent handle", () => {
    using d = db();
    let escaped: Queue;
    {
      using q = new Queue("q", { dbPath: d.path, persistent: true });
      escaped = q;
      q.write("x");
    }
    expect(() => escaped.write("y")).toThrow("closed");
  });
});

describe("config overrides", () => {
  test("camelCase and BROKER_* keys are resolved into q.config", () => {
    using d = db();
    using q = new Queue("q", { dbPath: d.path, config: { maxMessageSize: 5, BROKER_GENERATOR_BATCH_SIZE: "2" } });
    expect(q.config.maxMessageSize).toBe(5);
    expect(q.config.generatorBatchSize).toBe(2);
    expect(q.config.busyTimeout).toBe(5000); // untouched default
    expect(() => q.write("123456")).toThrow("exceeds maximum allowed size (5 bytes)");
    expect(Object.isFrozen(q.config)).toBe(true);
  });

  test("generatorBatchSize from config sets the at-least-once batch", () => {
    using d = db();
    using q = new Queue("q", { dbPath: d.path, config: { generatorBatchSize: 2 } });
    q.writeMany(["1", "2", "3", "4", "5"]);
    const seen: string[] = [];
    for (const m of q.readGenerator({ deliveryGuarantee: "at-least-once" })) {
      seen.push(m.body);
      if (seen.length === 3) break;
    }
    expect(q.stats().pending).toBe(3); // batch [1, 2] committed, [3, 4] rolled back
  });

  test("an invalid override is a ConfigError", () => {
    using d = db();
    expect(() => new Queue("q", { dbPath: d.path, config: { busyTimeout: "soon" } })).toThrow(
      "Invalid BROKER_BUSY_TIMEOUT 'soon': expected an integer",
    );
  });
});

describe("auto-vacuum", () => {
  const config = { autoVacuumInterval: 10, vacuumThreshold: 0.1 };

  test("a persistent handle removes claimed rows after enough writes", () => {
    using d = db();
    using q = new Queue("q", { dbPath: d.path, persistent: true, config });
    using observer = new Queue("q", { dbPath: d.path });
    q.writeMany(Array.from({ length: 10 }, (_, i) => `first ${i}`)); // 10 writes: check, nothing claimed
    expect(q.readMany(10)).toHaveLength(10);
    expect(observer.stats()).toMatchObject({ pending: 0, claimed: 10, total: 10 });
    for (let i = 0; i < 9; i++) q.write(`second ${i}`);
    expect(observer.stats()).toMatchObject({ claimed: 10, total: 19 }); // 9 writes since the check
    q.write("second 9"); // the 10th: 10 of 20 rows are claimed, above 10%
    expect(observer.stats()).toMatchObject({ pending: 10, claimed: 0, total: 10 });
    expect(existsSync(`${d.path}.vacuum.lock`)).toBe(false);
  });

  test("claims through another connection between checks are seen (the check recounts after any foreign commit)", () => {
    using d = db();
    using q = new Queue("q", { dbPath: d.path, persistent: true, config });
    q.writeMany(Array.from({ length: 10 }, (_, i) => `first ${i}`)); // check: 0 of 10 claimed, counts kept
    using other = new Queue("q", { dbPath: d.path }); // its own connection
    expect(other.readMany(10)).toHaveLength(10);
    for (let i = 0; i < 10; i++) q.write(`second ${i}`); // check: the kept counts are stale, 10 of 20 claimed
    expect(other.stats()).toMatchObject({ pending: 10, claimed: 0, total: 10 });
  });

  test("writeAsync counts towards the interval too", async () => {
    using d = db();
    using q = new Queue("q", { dbPath: d.path, persistent: true, config });
    await Promise.all(Array.from({ length: 10 }, (_, i) => q.writeAsync(String(i))));
    q.readMany(10);
    await Promise.all(Array.from({ length: 10 }, (_, i) => q.writeAsync(String(i))));
    expect(q.stats()).toMatchObject({ pending: 10, claimed: 0, total: 10 });
  });

  test("below the threshold nothing is removed", () => {
    using d = db();
    using q = new Queue("q", { dbPath: d.path, persistent: true, config: { autoVacuumInterval: 10, vacuumThreshold: 0.5 } });
    q.writeMany(Array.from({ length: 10 }, String));
    q.readMany(3);
    q.writeMany(Array.from({ length: 10 }, String)); // 3 of 20 claimed < 50%
    expect(q.stats()).toMatchObject({ claimed: 3, total: 20 });
  });

  test("ephemeral handles and autoVacuum: false never auto-vacuum", () => {
    using d = db();
    using eph = new Queue("q", { dbPath: d.path, config });
    eph.writeMany(Array.from({ length: 10 }, String));
    eph.readMany(10);
    eph.writeMany(Array.from({ length: 10 }, String));
    expect(eph.stats()).toMatchObject({ claimed: 10, total: 20 });
    using off = new Queue("q", { dbPath: d.path, persistent: true, config: { ...config, autoVacuum: false } });
    off.writeMany(Array.from({ length: 20 }, String));
    expect(off.stats()).toMatchObject({ claimed: 10, total: 40 });
  });
});
