// Filters applied once, above the backends (issue 12, item 4; issue 19, item 1): list filters by
// literal prefix or glob; a broadcast matches names before its transaction and still reaches the
// queues that exist when the transaction runs, as 3.6.1 does.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createSqliteBackend } from "../../lib/backends/sqlite/index.ts";
import type { Backend } from "../../lib/core/types.ts";
import { broadcastMatching, listQueues } from "../../lib/queue/queue-filter.ts";
import { resolveConfig } from "../../lib/target/config.ts";
import { tempDir } from "../helpers.ts";

async function seeded(dir: string, queues: string[]): Promise<Backend> {
  const b = createSqliteBackend(join(dir, "q.db"), resolveConfig());
  for (const q of queues) await b.write(q, ["seed"]);
  return b;
}

describe("listQueues", () => {
  test("prefix is literal, pattern is a glob; their literal prefix is validated as in 3.6.1", async () => {
    using d = tempDir();
    const b = await seeded(d.path, ["a*b", "jobs.1", "jobs.2", "jobsX", "other"]);
    const names = async (filter: object) => (await listQueues(b, filter)).map((s) => s.queue);
    expect(await names({ prefix: "jobs." })).toEqual(["jobs.1", "jobs.2"]);
    expect(await names({ pattern: "jobs?[0-9]" })).toEqual(["jobs.1", "jobs.2"]);
    expect(await names({ pattern: "[z-a]*" })).toEqual([]);
    expect(await names({ pattern: "*" })).toEqual(["a*b", "jobs.1", "jobs.2", "jobsX", "other"]);
    await expect(listQueues(b, { pattern: ".x*" })).rejects.toThrow("Invalid queue prefix");
    await expect(listQueues(b, { prefix: "a", pattern: "b" })).rejects.toThrow("prefix and pattern cannot be used together");
    await b.close();
  });
});

describe("broadcastMatching", () => {
  test("a matching queue created between the listing and the write transaction still gets the broadcast", async () => {
    using d = tempDir();
    const real = await seeded(d.path, ["jobs-1", "misc"]);
    let rounds = 0;
    // Another writer creates jobs-2 right after the first listing.
    const racing: Backend = Object.assign(Object.create(real), {
      listStats: async (filter?: { prefix?: string }) => {
        const rows = await real.listStats(filter);
        if (rounds++ === 0) await real.write("jobs-2", ["late"]);
        return rows;
      },
    });
    expect(await broadcastMatching(racing, "pause", "jobs-*")).toBe(2);
    expect(rounds).toBe(2);
    expect((await real.peek("jobs-2", { limit: 5 })).map((m) => m.body)).toEqual(["late", "pause"]);
    expect((await real.peek("misc", { limit: 5 })).map((m) => m.body)).toEqual(["seed"]);
    await real.close();
  });

  test("a chosen queue deleted before the transaction is skipped, not recreated", async () => {
    using d = tempDir();
    const real = await seeded(d.path, ["jobs-1", "jobs-2"]);
    const racing: Backend = Object.assign(Object.create(real), {
      listStats: async (filter?: { prefix?: string }) => {
        const rows = await real.listStats(filter);
        await real.deleteQueue("jobs-2");
        return rows;
      },
    });
    expect(await broadcastMatching(racing, "pause", "jobs-*")).toBe(1);
    expect((await real.listStats()).map((s) => s.queue)).toEqual(["jobs-1"]);
    await real.close();
  });
});
