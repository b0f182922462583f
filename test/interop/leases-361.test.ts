/**
 * Leases and delays leave SimpleBroker 3.6.1 undisturbed (docs/leases.md#sqlite):
 * the real 3.6.1 (/work/shared/reference beside this checkout, or
 * SIMPLEBROKER_361_DIR) works on a file where we hold a leased and a delayed
 * message; it never sees them pending, its vacuum never deletes them, its
 * writes never take their ids, and they come back only through us.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createSqliteBackend } from "../../lib/backends/sqlite/index.ts";
import { resolveConfig } from "../../lib/target/config.ts";
import { childEnv, tempDir } from "../helpers.ts";

const PY361 = process.env.SIMPLEBROKER_361_DIR ?? resolve(import.meta.dir, "../../../shared/reference/simplebroker-3.6.1");
const present = existsSync(join(PY361, "simplebroker", "__init__.py"));
if (!present) console.warn(`skipping the 3.6.1 lease interop test: no SimpleBroker 3.6.1 at ${PY361}`);

/** Run the 3.6.1 CLI on `file`; stdout, stderr and exit code. */
function py(file: string, ...args: string[]): { out: string; err: string; code: number } {
  const r = Bun.spawnSync(["python3", "-m", "simplebroker", "-f", file, ...args], {
    env: childEnv({ PYTHONPATH: PY361 }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  return { out: r.stdout.toString(), err: r.stderr.toString(), code: r.exitCode ?? -1 };
}

function heldRows(file: string): { ts: bigint; body: string }[] {
  const db = new Database(file, { readonly: true, safeIntegers: true });
  try {
    return db.query("SELECT ts, body FROM broker_held ORDER BY ts").all() as { ts: bigint; body: string }[];
  } finally {
    db.close();
  }
}

describe("SimpleBroker 3.6.1 beside our leases and delays", () => {
  test.skipIf(!present)(
    "3.6.1 read/list/--status/--vacuum ignore held messages; our expiry returns them",
    async () => {
      using dir = tempDir("sb-361-leases-");
      const file = join(dir.path, ".broker.db");
      for (const body of ["m1", "m2", "m3"]) expect(py(file, "write", "q", body).code).toBe(0);

      const b = createSqliteBackend(file, resolveConfig());
      const [leased] = await b.lease("q", { leaseMs: 60_000 });
      expect(leased!.body).toBe("m1");
      const [delayed] = await b.writeDelayed("q", ["later"], { delayMs: 500 });
      expect(await b.heldStats("q")).toEqual([{ queue: "q", leased: 1, scheduled: 1 }]);
      await b.close(); // from here on, only 3.6.1 touches the file

      expect(py(file, "write", "q", "m4")).toEqual({ out: "", err: "", code: 0 });
      expect(py(file, "list")).toEqual({ out: "q: 3\n", err: "", code: 0 });
      expect(py(file, "--status").out).toContain("total_messages: 3\n");
      expect(py(file, "peek", "--all", "q").out).toBe("m2\nm3\nm4\n");
      expect(py(file, "read", "q")).toEqual({ out: "m2\n", err: "", code: 0 });
      expect(py(file, "--vacuum").code).toBe(0);
      expect(py(file, "--status").out).toContain("total_messages: 2\n");
      Bun.sleepSync(600); // the delayed message is due, but nobody of ours has looked
      expect(py(file, "peek", "--all", "q").out).toBe("m3\nm4\n");
      expect(py(file, "--vacuum", "--compact").code).toBe(0);
      expect(heldRows(file)).toEqual([
        { ts: leased!.ts, body: "m1" },
        { ts: delayed!, body: "later" },
      ]);

      // Ours again: the delay is due and the lease ends (its deadline moved to now), both come back in place.
      const ours = createSqliteBackend(file, resolveConfig());
      expect(await ours.extend("q", leased!.ts, 1, leased!.token)).toBe(true);
      await Bun.sleep(20);
      expect((await ours.peek("q", { limit: 10 })).map((m) => m.body)).toEqual(["m1", "m3", "later", "m4"]);
      expect(await ours.heldStats()).toEqual([]);
      await ours.close();

      const ids = py(file, "read", "--all", "--timestamps", "q");
      expect(ids.code).toBe(0);
      const lines = ids.out.trimEnd().split("\n");
      expect(lines.map((l) => l.split("\t")[1])).toEqual(["m1", "m3", "later", "m4"]);
      expect(lines[0]!.split("\t")[0]).toBe(String(leased!.ts));
      expect(lines[2]!.split("\t")[0]).toBe(String(delayed!));
      expect(py(file, "list")).toEqual({ out: "", err: "", code: 0 });
    },
    60_000,
  );
});
