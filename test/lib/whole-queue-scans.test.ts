/**
 * Whole-queue walks read each row once, on every backend: no page skips rows
 * by OFFSET, and no statement rescans the queue (a full scan, or a sort of
 * everything before a LIMIT). SQLite: the statements a claim, move and peek
 * walk and a queue delete actually run, caught as they are prepared, then
 * planned with EXPLAIN QUERY PLAN. PostgreSQL: the selections those walks
 * pass the backend, turned into the backend's own SQL and EXPLAINed with
 * sequential scans, bitmap scans and sorts priced out, so a statement no index
 * serves in order still shows a Seq Scan or a Sort. Redis:
 * the scripts those walks run never load a whole queue or all bodies in one
 * command. Timings live in bench/scale.ts, not here.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database, type Statement } from "bun:sqlite";
import { SQL } from "bun";
import { join } from "node:path";
import { openBroker, type Broker, type Message, type Selection } from "../../index.ts";
import { claimSql, moveSql, peekSql } from "../../lib/backends/postgres/ops.ts";
import { script } from "../../lib/backends/redis/scripts.ts";
import { postgresUrl, redisUrl } from "../services.ts";
import { tempDir } from "../helpers.ts";

const dir = tempDir();
afterAll(() => dir[Symbol.dispose]());
const DEPTH = 3000;

/** Run the four whole-queue operations on `broker`'s queue q (DEPTH messages, the first 200 claimed). */
async function walkEverything(broker: Broker): Promise<void> {
  await broker.write(
    "q",
    Array.from({ length: DEPTH }, (_, i) => `m${i}`),
  );
  await broker.deliver({ queue: "q", kind: "claim", selection: {}, max: 200 }, async () => {});
  let peeked = 0;
  await broker.deliver({ queue: "q", kind: "peek", selection: {}, pageSize: 1000 }, async () => void peeked++);
  expect(peeked).toBe(DEPTH - 200);
  let moved = 0;
  await broker.deliver({ queue: "q", kind: "move", selection: {}, destination: "q2", pageSize: 1000 }, async () => void moved++);
  expect(moved).toBe(DEPTH - 200);
  expect(await broker.delete("q2")).toBe(DEPTH - 200);
}

/** Record every selection `broker`'s backend receives for claims, peeks and moves. */
function recordSelections(broker: Broker): Array<{ op: "claim" | "peek" | "move"; sel: Selection }> {
  const seen: Array<{ op: "claim" | "peek" | "move"; sel: Selection }> = [];
  const b = broker.backend as unknown as Record<string, (...a: unknown[]) => Promise<Message[]>>;
  for (const op of ["claim", "peek", "move"] as const) {
    const original = b[op]!.bind(b);
    b[op] = (...args: unknown[]) => {
      seen.push({ op, sel: args[op === "move" ? 2 : 1] as Selection });
      return original(...args);
    };
  }
  return seen;
}

test("SQLite: every statement of a claim, peek and move walk and a delete is an index search, never a scan, a sort or an offset", async () => {
  const runs = new Map<string, unknown[]>();
  const original = Database.prototype.prepare;
  Database.prototype.prepare = function (this: Database, sql: string, ...rest: unknown[]) {
    const stmt = (original as (sql: string, ...rest: unknown[]) => Statement).call(this, sql, ...rest);
    if (/\bmessages\b/.test(sql) && /^\s*(SELECT|UPDATE|DELETE)/i.test(sql)) {
      for (const m of ["all", "get", "run", "values"] as const) {
        const call = stmt[m].bind(stmt) as (...p: unknown[]) => unknown;
        (stmt as unknown as Record<string, unknown>)[m] = (...params: unknown[]) => (runs.set(sql, params), call(...params));
      }
    }
    return stmt;
  } as typeof Database.prototype.prepare;
  const path = join(dir.path, "scans.db");
  try {
    await using broker = await openBroker(path);
    await walkEverything(broker);
  } finally {
    Database.prototype.prepare = original;
  }
  const walks = [...runs].filter(([sql]) => /ORDER BY|DELETE FROM messages WHERE queue/.test(sql));
  expect(walks.length).toBeGreaterThanOrEqual(4); // claim, peek (first page, later pages), move, delete
  const db = new Database(path, { readonly: true, strict: true });
  try {
    for (const [sql, params] of walks) {
      const plan = (db.query(`EXPLAIN QUERY PLAN ${sql}`).all(...(params as [])) as { detail: string }[]).map((r) => r.detail);
      const text = `${sql}\n  ${plan.join("\n  ")}`;
      expect(
        plan.some((d) => /^SEARCH messages USING (INDEX|COVERING INDEX)/.test(d)),
        text,
      ).toBe(true);
      expect(
        plan.filter((d) => /^SCAN messages\b/.test(d)),
        text,
      ).toEqual([]);
      expect(
        plan.filter((d) => d.includes("TEMP B-TREE")),
        text,
      ).toEqual([]);
      if (/\bOFFSET\b/.test(sql)) expect(params[params.length - 1], text).toBe(0);
    }
  } finally {
    db.close();
  }
});

describe("PostgreSQL", async () => {
  const url = await postgresUrl();
  const schema = `scans_${process.pid}`;

  test("every page, claim and move of a walk is served in order by an index (no Seq Scan, no Sort, no offset)", async () => {
    await using broker = await openBroker(undefined, {
      config: { backend: "postgres", backendTarget: url, backendSchema: schema },
    });
    const seen = recordSelections(broker);
    await walkEverything(broker);
    expect(seen.filter((s) => s.op === "peek").length).toBeGreaterThanOrEqual(3);
    const sql = new SQL(url, { max: 1 });
    try {
      for (const { op, sel } of seen) {
        expect(sel.offset ?? 0).toBe(0);
        const st =
          op === "peek"
            ? peekSql(schema, "q", sel)
            : op === "claim"
              ? claimSql(schema, "q", sel)
              : moveSql(schema, "q", "q2", sel, "c");
        const nodes = await sql.begin(async (tx) => {
          // Priced out, not forbidden: a plan still holding a Seq Scan or a Sort has no index giving the rows in order.
          for (const knob of ["enable_seqscan", "enable_bitmapscan", "enable_sort"]) await tx.unsafe(`SET LOCAL ${knob} = off`);
          const [row] = await tx.unsafe(`EXPLAIN (FORMAT JSON) ${st.text}`, st.params as never[]);
          return flatten((row as { "QUERY PLAN": [{ Plan: PlanNode }] })["QUERY PLAN"][0].Plan);
        });
        const text = `${op} ${JSON.stringify(sel, (_, v) => (typeof v === "bigint" ? String(v) : v))}: ${nodes.map((n) => n["Node Type"]).join(" > ")}`;
        expect(
          nodes.filter((n) => n["Node Type"] === "Seq Scan" && n["Relation Name"] === "messages"),
          text,
        ).toEqual([]);
        expect(
          nodes.filter((n) => n["Node Type"] === "Sort" || n["Node Type"] === "Incremental Sort"),
          text,
        ).toEqual([]);
        expect(
          nodes.some((n) => /Index/.test(n["Node Type"]) && n["Relation Name"] === "messages"),
          text,
        ).toBe(true);
      }
    } finally {
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await sql.close();
    }
  }, 60_000);
});

/**
 * A PostgreSQL broker on a fresh schema (no automatic vacuum of ours) with `n` messages in `q`, and `pages()`: the
 * pages the claim's index scan reads to find the first pending row (EXPLAIN ANALYZE's buffer counts). The schema
 * is dropped when `body` ends.
 */
async function withClaimPages(
  n: number,
  body: (broker: Broker, pages: () => Promise<number>, sql: SQL, schema: string) => Promise<void>,
): Promise<void> {
  const url = await postgresUrl();
  const schema = `scans_pages_${process.pid}_${n}`;
  const sql = new SQL(url, { max: 1 });
  const pages = async () => {
    const [row] = await sql.unsafe(
      `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT order_id FROM ${schema}.messages WHERE queue = 'q' AND claimed = FALSE ORDER BY order_id LIMIT 1`,
    );
    const plan = (row as { "QUERY PLAN": [{ Plan: Record<string, number> }] })["QUERY PLAN"][0].Plan;
    return plan["Shared Hit Blocks"]! + plan["Shared Read Blocks"]!;
  };
  try {
    await using broker = await openBroker(undefined, {
      config: { backend: "postgres", backendTarget: url, backendSchema: schema, autoVacuum: false },
    });
    await broker.write(
      "q",
      Array.from({ length: n }, (_, i) => `m${i}`),
    );
    await body(broker, pages, sql, schema);
  } finally {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await sql.close();
  }
}

// Claimed rows leave dead index entries that every later claim steps over until PostgreSQL's VACUUM
// removes them; with autovacuum off (as on this machine) nothing else ever does. Counted in buffers.
test("PostgreSQL: after a vacuum, the next claim's index scan reads a few pages, not one per dead row", async () => {
  await withClaimPages(5000, async (broker, pages) => {
    for (let i = 0; i < 50; i++) await broker.read("q", { limit: 100 });
    await broker.write("q", ["last"]);
    expect(await pages()).toBeGreaterThan(15); // the 5,000 claimed rows are still in the way
    expect((await broker.vacuum()).vacuumed).toBe(5000);
    expect(await pages()).toBeLessThanOrEqual(5);
    expect((await broker.read("q")).map((m) => m.body)).toEqual(["last"]);
  });
}, 60_000);

// Claims leave dead row versions too, during a drain: every 10,000 rows claimed or moved, a backend sweeps them
// with PostgreSQL's VACUUM in the background (claimed rows stay; only our vacuum deletes those).
test("PostgreSQL: after 10,000 claims the backend sweeps their dead versions; claimed rows stay", async () => {
  await withClaimPages(10_001, async (broker, pages, sql, schema) => {
    for (let i = 0; i < 10; i++) expect((await broker.read("q", { limit: 1000 })).length).toBe(1000);
    const started = Date.now();
    while ((await pages()) > 5 && Date.now() - started < 20_000) await Bun.sleep(100);
    expect(await pages()).toBeLessThanOrEqual(5);
    const [{ n }] = await sql.unsafe(`SELECT count(*)::int AS n FROM ${schema}.messages WHERE claimed`);
    expect(n).toBe(10_000);
    expect((await broker.read("q")).map((m) => m.body)).toEqual(["m10000"]);
  });
}, 60_000);

describe("Redis", async () => {
  const url = await redisUrl();

  test("a walk takes at most a page per call, and no script a walk or a delete runs loads a whole queue or every body", async () => {
    await using broker = await openBroker(undefined, {
      config: { backend: "redis", backendTarget: url, backendSchema: `scans-${process.pid}` },
    });
    const seen = recordSelections(broker);
    try {
      await walkEverything(broker);
    } finally {
      await broker.delete();
    }
    for (const { sel } of seen) {
      expect(sel.offset ?? 0).toBe(0);
      expect(sel.limit ?? 1).toBeLessThanOrEqual(1000);
    }
    for (const name of ["claim", "peek", "move", "reserve", "finish", "delete"] as const) {
      const body = script(name).source;
      // ZRANGE … 0, -1 over a queue's sorted sets would return the whole queue in one reply.
      expect(body.match(/ZRANGE', qk\([^,]*, '(pending|claimed|reserved)'\), 0, -1/g) ?? [], name).toEqual([]);
      expect(body.match(/'(HGETALL|HVALS|HKEYS)', BODIES/g) ?? [], name).toEqual([]);
      // Bodies are fetched with HMGET only inside the 500-id chunks.
      for (const line of body.split("\n").filter((l) => l.includes("'HMGET', BODIES")))
        expect(line, name).toContain("unpack(ids, a, b)");
    }
  });
});

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  Plans?: PlanNode[];
}

function flatten(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(flatten)];
}
