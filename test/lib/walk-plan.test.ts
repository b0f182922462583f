/**
 * Whole-queue walks stay linear: every statement a peek walk runs on SQLite
 * is planned as an index range read in order, with no sort of the rows left
 * (`USE TEMP B-TREE`) and no skipped rows (`OFFSET` above 0), so a page costs
 * the same at the end of a million messages as at the start. The statements
 * are the store's own, caught as it prepares them.
 */
import { afterAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { Queue } from "../../index.ts";
import { tempDir } from "../helpers.ts";

const dir = tempDir();
afterAll(() => dir[Symbol.dispose]());

test("a peek walk reads each page as an ordered index range, without sorting or skipping", () => {
  const path = join(dir.path, "walk.db");
  using q = new Queue("q", { dbPath: path, persistent: true });
  q.writeMany(Array.from({ length: 2500 }, (_, i) => `m${i}`));
  q.readMany(100); // claimed rows the walk must step over once, not on every page

  const original = Database.prototype.prepare;
  const runs: Array<{ sql: string; params: unknown[] }> = [];
  Database.prototype.prepare = function (this: Database, sql: string, ...rest: unknown[]) {
    const stmt = (original as (sql: string, ...rest: unknown[]) => ReturnType<Database["prepare"]>).call(this, sql, ...rest);
    if (/^\s*SELECT .* FROM messages/i.test(sql)) {
      const all = stmt.all.bind(stmt);
      stmt.all = ((...params: unknown[]) => (runs.push({ sql, params }), all(...(params as [])))) as typeof stmt.all;
    }
    return stmt;
  } as typeof Database.prototype.prepare;
  let count = 0;
  try {
    for (const _ of q.peekGenerator({ pageSize: 1000 })) count++;
  } finally {
    Database.prototype.prepare = original;
  }
  expect(count).toBe(2400);
  expect(runs.length).toBe(3);

  const db = new Database(path, { readonly: true });
  try {
    for (const [i, { sql, params }] of runs.entries()) {
      const plan = (db.query(`EXPLAIN QUERY PLAN ${sql}`).all(...(params as [])) as { detail: string }[])
        .map((r) => r.detail)
        .join("; ");
      expect(plan).toContain("USING INDEX");
      expect(plan).not.toContain("TEMP B-TREE");
      // Pages after the first start after the last id seen; nothing is skipped by offset.
      if (i > 0) expect(sql).toContain("ts > ?");
      expect(sql.includes("OFFSET") ? params[params.length - 1] : 0).toBe(0);
    }
  } finally {
    db.close();
  }
});
