/**
 * Dump/load memory benchmark (`npm run bench:dump`): the compiled CLI dumps
 * a 100k- and a 1M-message SQLite file and loads each dump into a fresh
 * file; prints time and maximum RSS of each (the child's resource usage). Both
 * stream (keyset pages out, one transaction fed line by line in), so the
 * RSS at 1M should stay near the RSS at 100k. BENCH_DUMP_SIZES overrides
 * the sizes (comma-separated).
 * @module
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openBroker } from "../index.ts";
import { buildArgs } from "../test/helpers.ts";

const ROOT = resolve(import.meta.dir, "..");
const SIZES = (process.env.BENCH_DUMP_SIZES ?? "100000,1000000").split(",").map(Number);
const dir = mkdtempSync(join(tmpdir(), "sb-dumpbench-"));
const cli = join(dir, "broker");
const b = Bun.spawnSync([process.execPath, ...buildArgs(join(ROOT, "cli/index.ts"), cli)], {
  cwd: ROOT,
  stdout: "pipe",
  stderr: "pipe",
});
if (b.exitCode !== 0) throw new Error(b.stderr.toString());

/** Run `sh -c "exec …"`: seconds and the process's maximum RSS in MiB (from its resource usage). */
function timed(script: string): { seconds: number; rssMb: number } {
  const t0 = performance.now();
  const r = Bun.spawnSync(["sh", "-c", `exec ${script}`], { stdout: "pipe", stderr: "pipe" });
  const seconds = (performance.now() - t0) / 1000;
  if (r.exitCode !== 0) throw new Error(`${script}: exit ${r.exitCode}: ${r.stderr.toString()}`);
  return { seconds, rssMb: r.resourceUsage.maxRSS / 2 ** 20 };
}

for (const n of SIZES) {
  const src = join(dir, `src-${n}.db`);
  {
    await using broker = await openBroker(src);
    for (let i = 0; i < n; i += 10_000) {
      await broker.write(
        `q${(i / 10_000) % 4}`,
        Array.from({ length: Math.min(10_000, n - i) }, (_, k) => `message ${i + k} ${"x".repeat(40)}`),
      );
    }
  }
  const db = new Database(src);
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  const file = join(dir, `dump-${n}.ndjson`);
  const d = timed(`'${cli}' -f '${src}' dump > '${file}'`);
  const l = timed(`'${cli}' -f '${join(dir, `dst-${n}.db`)}' load < '${file}'`);
  const mb = statSync(file).size / 2 ** 20;
  console.log(`${n.toLocaleString("en-US")} messages (${mb.toFixed(0)} MiB of dump):`);
  console.log(`  dump  ${d.seconds.toFixed(1)} s  max RSS ${d.rssMb.toFixed(0)} MiB`);
  console.log(`  load  ${l.seconds.toFixed(1)} s  max RSS ${l.rssMb.toFixed(0)} MiB`);
}
rmSync(dir, { recursive: true, force: true });
