/**
 * Guards the message-id properties (docs/on-disk-format.md#message-ids) across processes: 4 child
 * processes each write 500 messages to one database at the same time. The
 * ids must be unique, increase in every writer's own order, increase with
 * the insertion order (ids are allocated inside the write transaction, docs/compatibility.md#q7-ids-inside-the-write-transaction),
 * match what each write returned, equal meta.last_ts at the end, and never
 * run ahead of the wall clock by more than a few ms. Also a seeded property
 * check of the hybrid-clock step itself.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { decodeHybridTimestamp, encodeHybridTimestamp, nextHybridTimestamp } from "../../lib/time/timestamp.ts";
import { tempDir, childEnv } from "../helpers.ts";
import { seededRandom as mulberry32 } from "../helpers.ts";

const FIXTURE = resolve(import.meta.dir, "../fixtures/stress-ids-fixture.ts");
const WRITERS = 4;
const PER_WRITER = 500;
/** How far an id may be ahead of the wall clock read after the last write. */
const AHEAD_SLACK_NS = 5_000_000n;

describe("ids across concurrent processes", () => {
  test(`${WRITERS} processes × ${PER_WRITER} writes: unique, increasing, not ahead of the clock`, async () => {
    using dir = tempDir("sb-ids-");
    const db = join(dir.path, "ids.db");
    const startWallNs = BigInt(Date.now()) * 1_000_000n;
    const startAt = Date.now() + 500;
    const env = childEnv();
    const procs = Array.from({ length: WRITERS }, (_, i) =>
      Bun.spawn([process.execPath, FIXTURE, db, `p${i}`, String(PER_WRITER), String(startAt)], {
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        env,
      }),
    );
    const outputs = await Promise.all(
      procs.map(async (p) => {
        const [stdout, stderr, code] = await Promise.all([
          new Response(p.stdout).text(),
          new Response(p.stderr).text(),
          p.exited,
        ]);
        return { stdout, stderr, code };
      }),
    );
    const endWallNs = BigInt(Date.now()) * 1_000_000n;
    for (const o of outputs) {
      expect(o.stderr).toBe("");
      expect(o.code).toBe(0);
    }

    const conn = new Database(db, { readonly: true, safeIntegers: true });
    let rows: { id: bigint; ts: bigint; body: string }[];
    let lastTs: bigint;
    try {
      rows = conn.query("SELECT id, ts, body FROM messages ORDER BY id").all() as typeof rows;
      lastTs = (conn.query("SELECT value FROM meta WHERE key = 'last_ts'").get() as { value: bigint }).value;
    } finally {
      conn.close();
    }
    expect(rows.length).toBe(WRITERS * PER_WRITER);

    // Unique, 19 digits.
    expect(new Set(rows.map((r) => r.ts)).size).toBe(rows.length);
    for (const r of rows) expect(String(r.ts)).toMatch(/^\d{19}$/);

    // Increasing with insertion order (FIFO order = id order = ts order).
    let inversions = 0;
    for (let i = 1; i < rows.length; i++) if (rows[i]!.ts <= rows[i - 1]!.ts) inversions++;
    expect(inversions).toBe(0);

    // Per process: increasing in its own write order, and equal to what write() returned.
    for (let p = 0; p < WRITERS; p++) {
      const mine = rows
        .filter((r) => r.body.startsWith(`p${p}:`))
        .sort((a, b) => Number(a.body.split(":")[1]) - Number(b.body.split(":")[1]));
      expect(mine.length).toBe(PER_WRITER);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.ts > mine[i - 1]!.ts).toBe(true);
      const returned = outputs[p]!.stdout.trim().split("\n").map(BigInt);
      expect(returned).toEqual(mine.map((r) => r.ts));
    }

    // The high-water mark is the last id; no id is ahead of the wall clock.
    const maxTs = rows.reduce((m, r) => (r.ts > m ? r.ts : m), 0n);
    expect(lastTs).toBe(maxTs);
    const newest = decodeHybridTimestamp(maxTs);
    const oldest = decodeHybridTimestamp(rows[0]!.ts);
    expect(newest.physicalNs).toBeLessThanOrEqual(endWallNs + AHEAD_SLACK_NS);
    expect(oldest.physicalNs).toBeGreaterThanOrEqual(startWallNs - AHEAD_SLACK_NS);
    expect(Math.abs(newest.date.getTime() - Date.now())).toBeLessThan(60_000);
    // Every writer got its turn. (How finely they interleave depends on SQLite's busy
    // handler, which lets a waiting writer sleep while the active one keeps the lock, so
    // on an idle machine the runs can be long; uniqueness and order above hold either way.)
    const owners = rows.map((r) => r.body.split(":")[0]);
    let switches = 0;
    for (let i = 1; i < owners.length; i++) if (owners[i] !== owners[i - 1]) switches++;
    expect(switches).toBeGreaterThanOrEqual(WRITERS - 1);
  }, 60_000);
});

describe("hybrid clock step (seeded property check)", () => {
  test("next id is greater than the last, never far ahead of max(last, now)", () => {
    const rand = mulberry32(0x1d5);
    const base = 1_800_000_000_000_000_000n;
    for (let i = 0; i < 20_000; i++) {
      const last = base + BigInt(Math.floor(rand() * 2 ** 40));
      // now anywhere from 1 s behind to 1 s ahead of last.
      const now = last + BigInt(Math.floor((rand() - 0.5) * 2e9));
      const next = nextHybridTimestamp(last, now);
      expect(next > last).toBe(true);
      const floor = (x: bigint) => x & ~0xfffn;
      const hi = floor(now) > floor(last) ? floor(now) : last + 0x1000n;
      expect(next <= hi).toBe(true);
      if (floor(now) > floor(last)) expect(next).toBe(floor(now));
    }
  });

  test("encode/decode round-trip", () => {
    const rand = mulberry32(0xabc);
    for (let i = 0; i < 5_000; i++) {
      const physical = (1_700_000_000_000_000_000n + BigInt(Math.floor(rand() * 2 ** 50))) & ~0xfffn;
      const counter = Math.floor(rand() * 4096);
      const ts = encodeHybridTimestamp(physical, counter);
      const d = decodeHybridTimestamp(ts);
      expect(d.physicalNs).toBe(physical);
      expect(d.counter).toBe(counter);
      expect(d.date.getTime()).toBe(Number(physical / 1_000_000n));
    }
  });

  test("a run of ids from one clock reading stays strictly increasing through counter overflow", () => {
    const now = 1_800_000_000_000_000_000n;
    let last = 0n;
    for (let i = 0; i < 10_000; i++) {
      const next = nextHybridTimestamp(last, now);
      expect(next > last).toBe(true);
      last = next;
    }
    // 10,000 ids in one 4096 ns grain carry into the next grains by counter steps only.
    expect(last - now).toBeLessThan(3n * 0x1000n);
  });
});
