// The lease and delay contract (lib/testing/leases.ts) on SQLite, plus what only SQLite has:
// the side tables appear on first use only (docs/leases.md#sqlite).
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createSqliteBackend } from "../../../lib/backends/sqlite/index.ts";
import { resolveConfig } from "../../../lib/target/config.ts";
import { describeLeaseContract } from "../../../lib/testing.ts";
import { tempDir } from "../../helpers.ts";

const dir = tempDir("sb-leases-");
afterAll(() => dir[Symbol.dispose]());
let n = 0;
const config = resolveConfig({ syncMode: "OFF" });

describeLeaseContract({
  name: "sqlite",
  create: async () => {
    const b = createSqliteBackend(join(dir.path, `db${n++}.db`), config);
    await b.init();
    return b;
  },
  connectSame: async (b) => createSqliteBackend(b.displayTarget, config),
});

/** Everything in sqlite_master and the meta keys: what a 3.6.1 process sees of the schema. */
function schemaOf(file: string): { master: unknown[]; meta: string[] } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      master: db.query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").all(),
      meta: (db.query("SELECT key FROM meta ORDER BY key").all() as { key: string }[]).map((r) => r.key),
    };
  } finally {
    db.close();
  }
}

function rowsOf(file: string, sql: string): unknown[] {
  const db = new Database(file, { readonly: true, safeIntegers: true });
  try {
    return db.query(sql).all();
  } finally {
    db.close();
  }
}

describe("sqlite leases: the file", () => {
  test("a file that never held a message keeps the 3.6.1 schema; the side tables appear on first use", async () => {
    const untouched = join(dir.path, "untouched.db");
    const plain = createSqliteBackend(untouched, config);
    await plain.init();
    await plain.close();
    const file = join(dir.path, "used.db");
    const b = createSqliteBackend(file, config);
    await b.write("q", ["a", "b"]);
    await b.peek("q", {});
    await b.claim("q", {});
    await b.move("q", "r", {});
    await b.listStats();
    await b.queueStats("q");
    await b.hasPending("q");
    await b.vacuum(false);
    expect(await b.promoteDue()).toBe(0);
    expect(await b.heldStats()).toEqual([]);
    expect(await b.peekHeld("q", { limit: 5 })).toEqual([]);
    expect(await b.ack("q", [1n])).toEqual([]);
    expect(await b.release("q", [1n])).toEqual([]);
    expect(await b.extend("q", 1n, 100)).toBe(false);
    expect(await b.deadLetter("q", [1n], "d")).toEqual([]);
    expect(await b.lease("q", { leaseMs: 100, limit: 0 })).toEqual([]);
    expect(schemaOf(file)).toEqual(schemaOf(untouched));
    expect(schemaOf(file).meta).toEqual(["alias_version", "last_ts", "magic", "schema_version"]);

    await b.write("q", ["c"]);
    const [leased] = await b.lease("q", { leaseMs: 60_000 });
    const tables = (schemaOf(file).master as { name: string }[]).map((r) => r.name);
    expect(tables).toContain("broker_held");
    expect(tables).toContain("broker_attempts");
    expect(schemaOf(file).meta).toEqual(["alias_version", "last_ts", "magic", "schema_version"]);
    // Held = not in `messages`: no 3.6.1 reader sees it and no vacuum of claimed rows can remove it.
    expect(rowsOf(file, `SELECT ts FROM messages WHERE ts = ${leased!.ts}`)).toEqual([]);
    expect(rowsOf(file, "SELECT ts, queue, body, attempt, token FROM broker_held")).toEqual([
      { ts: leased!.ts, queue: "q", body: "c", attempt: 1n, token: leased!.token },
    ]);
    await b.close();
  });

  test("a message comes back with its row id too, so 3.6.1's id order keeps its place", async () => {
    const file = join(dir.path, "rowid.db");
    const b = createSqliteBackend(file, config);
    await b.write("q", ["a", "b"]);
    const before = rowsOf(file, "SELECT id, ts, body FROM messages ORDER BY id");
    const [a] = await b.lease("q", { leaseMs: 60_000 });
    const [d] = await b.writeDelayed("q", ["d"], { atMs: Date.now() - 1 });
    await b.write("q", ["z"]);
    expect(await b.promoteDue("q")).toBe(1);
    expect(await b.release("q", [a!.ts])).toEqual([a!.ts]);
    const after = rowsOf(file, "SELECT id, ts, body FROM messages ORDER BY id") as { id: bigint; ts: bigint; body: string }[];
    expect(after.slice(0, 2)).toEqual(before as typeof after);
    expect(after.map((r) => r.body)).toEqual(["a", "b", "d", "z"]);
    expect(after[2]!.ts).toBe(d!);
    await b.close();
  });

  test("the sync store has the same methods; reserve, rename and vacuum know held messages", () => {
    const b = createSqliteBackend(join(dir.path, "sync.db"), config);
    const s = b.store;
    const ids = s.write("q", ["a", "b", "c"]);
    const leased = s.lease("q", { leaseMs: 30, limit: 2 });
    expect(leased.map((m) => [m.ts, m.attempt])).toEqual([
      [ids[0]!, 1],
      [ids[1]!, 1],
    ]);
    Bun.sleepSync(60);
    // An at-least-once batch returns due messages inside its own transaction first.
    const batch = s.reserve("q", { limit: 3 });
    expect(batch.messages.map((m) => m.body)).toEqual(["a", "b", "c"]);
    batch.rollback();
    const again = s.lease("q", { leaseMs: 60_000 });
    expect(again[0]!.attempt).toBe(2);
    s.writeDelayed("q", ["later"], { delayMs: 60_000 });
    expect(s.rename("q", "q2", false).messages).toBe(2);
    expect(s.heldStats()).toEqual([{ queue: "q2", leased: 1, scheduled: 1 }]);
    expect(s.ack("q2", [again[0]!.ts], again[0]!.token)).toEqual([ids[0]!]);
    // b's lease count is remembered while it is pending; a read and a vacuum forget it.
    expect(rowsOf(b.displayTarget, "SELECT ts FROM broker_attempts")).toEqual([{ ts: ids[1]! }]);
    expect(s.claim("q2", {}).map((m) => m.ts)).toEqual([ids[1]!]);
    s.vacuum();
    expect(rowsOf(b.displayTarget, "SELECT ts FROM broker_attempts")).toEqual([]);
    expect(s.peekHeld("q2", { limit: 5 }).map((m) => m.body)).toEqual(["later"]);
    s.close();
  });
});
