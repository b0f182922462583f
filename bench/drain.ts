/**
 * `read --all` drain benchmark, one run (`npm run bench:drain`):
 *
 * - exactly-once at BROKER_SYNC_MODE=NORMAL, 100k messages: the compiled CLI
 *   against a compiled plain bun:sqlite claim-commit-print loop on the same
 *   file (bench/drain-raw-fixture.ts; target ≥ 0.9×) and against the Python
 *   SimpleBroker 3.6.1 CLI (target ≥ 2×), when BENCH_PY361 (default: the
 *   reference copy beside this checkout) holds its source;
 * - at FULL (an fsync per commit, so 10k messages): BROKER_READ_COMMIT_INTERVAL=1000
 *   against 1 (target ≥ 10×).
 *
 * Each run drains a fresh copy of one seeded file, stdout to a pipe. The CLI
 * and the raw loop run BENCH_DRAIN_ROUNDS times (default 3), interleaved, and
 * are compared by CPU time (user + system of the child, the median of the
 * rounds): on a shared machine wall time mostly measures the neighbours.
 * Prints CPU and wall times, throughputs and the ratios.
 * @module
 */
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openBroker } from "../index.ts";
import { buildArgs } from "../test/helpers.ts";

const ROOT = resolve(import.meta.dir, "..");
const PY361 = process.env.BENCH_PY361 ?? resolve(ROOT, "../shared/reference/simplebroker-3.6.1");
const N_NORMAL = Number(process.env.BENCH_DRAIN_N ?? 100_000);
const N_FULL = Number(process.env.BENCH_DRAIN_FULL_N ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), "sb-drain-"));

function build(entry: string, outfile: string): string {
  const r = Bun.spawnSync([process.execPath, ...buildArgs(entry, outfile)], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`build of ${entry} failed: ${r.stderr.toString()}`);
  return outfile;
}

async function seed(count: number): Promise<string> {
  const file = join(dir, `seed-${count}.db`);
  {
    await using b = await openBroker(file);
    for (let i = 0; i < count; i += 10_000)
      await b.write(
        "q",
        Array.from({ length: Math.min(10_000, count - i) }, (_, k) => `message ${i + k}`),
      );
  }
  const db = new Database(file);
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  return file;
}

let copies = 0;
function fresh(seedFile: string): string {
  const file = join(dir, `run-${copies++}.db`);
  copyFileSync(seedFile, file);
  return file;
}

/** CPU seconds (user + system) and wall seconds of one drain of a fresh copy with `argv(file)`. */
interface Times {
  cpu: number;
  wall: number;
}

function drainTimes(seedFile: string, argv: (file: string) => string[], env: Record<string, string>, expected: number): Times {
  const file = fresh(seedFile);
  const t0 = performance.now();
  const r = Bun.spawnSync(argv(file), { env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const wall = (performance.now() - t0) / 1000;
  const cpu = Number(r.resourceUsage.cpuTime.total) / 1e6;
  const lines = r.stdout.toString().split("\n").length - 1;
  if (r.exitCode !== 0 || lines !== expected)
    throw new Error(`${argv(file).join(" ")}: exit ${r.exitCode}, ${lines} lines: ${r.stderr.toString()}`);
  for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
  return { cpu, wall };
}

/** Wall seconds of one drain (the FULL comparison: there the fsyncs are the point). */
function drain(seedFile: string, argv: (file: string) => string[], env: Record<string, string>, expected: number): number {
  return drainTimes(seedFile, argv, env, expected).wall;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ROUNDS = Number(process.env.BENCH_DRAIN_ROUNDS ?? 3);

const cli = build(join(ROOT, "cli/index.ts"), join(dir, "broker"));
const raw = build(join(ROOT, "bench/drain-raw-fixture.ts"), join(dir, "drain-raw"));
const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString("en-US")} msg/s`;

const normal = await seed(N_NORMAL);
const NORMAL = { BROKER_SYNC_MODE: "NORMAL" };
const rawRuns: Times[] = [];
const cliRuns: Times[] = [];
for (let i = 0; i < ROUNDS; i++) {
  rawRuns.push(drainTimes(normal, (f) => [raw, f], NORMAL, N_NORMAL));
  cliRuns.push(drainTimes(normal, (f) => [cli, "-f", f, "read", "q", "--all"], NORMAL, N_NORMAL));
}
const rawCpu = median(rawRuns.map((t) => t.cpu));
const cliCpu = median(cliRuns.map((t) => t.cpu));
const times = (cpu: number, runs: Times[]) =>
  `${cpu.toFixed(2)} s CPU (wall ${median(runs.map((t) => t.wall)).toFixed(2)} s)  ${rate(N_NORMAL, cpu)} of CPU`;
console.log(`NORMAL, ${N_NORMAL.toLocaleString("en-US")} messages, exactly-once, median of ${ROUNDS} interleaved rounds:`);
console.log(`  raw bun:sqlite loop  ${times(rawCpu, rawRuns)}`);
console.log(`  broker read --all    ${times(cliCpu, cliRuns)}   ratio ${(rawCpu / cliCpu).toFixed(2)}× of raw (target ≥ 0.90)`);
if (existsSync(join(PY361, "simplebroker"))) {
  const py = drainTimes(
    normal,
    (f) => ["python3", "-m", "simplebroker", "-f", f, "read", "q", "--all"],
    { ...NORMAL, PYTHONPATH: PY361 },
    N_NORMAL,
  );
  console.log(
    `  Python 3.6.1 CLI     ${py.cpu.toFixed(2)} s CPU (wall ${py.wall.toFixed(2)} s)   ours ${(py.cpu / cliCpu).toFixed(2)}× faster by CPU, ${(py.wall / median(cliRuns.map((t) => t.wall))).toFixed(2)}× by wall (target ≥ 2)`,
  );
} else {
  console.log(`  Python 3.6.1 CLI     skipped: ${PY361} is absent`);
}

const full = await seed(N_FULL);
const one = drain(full, (f) => [cli, "-f", f, "read", "q", "--all"], { BROKER_SYNC_MODE: "FULL" }, N_FULL);
const batched = drain(
  full,
  (f) => [cli, "-f", f, "read", "q", "--all"],
  { BROKER_SYNC_MODE: "FULL", BROKER_READ_COMMIT_INTERVAL: "1000" },
  N_FULL,
);
console.log(`FULL, ${N_FULL.toLocaleString("en-US")} messages:`);
console.log(`  BROKER_READ_COMMIT_INTERVAL=1     ${one.toFixed(2)} s  ${rate(N_FULL, one)}`);
console.log(
  `  BROKER_READ_COMMIT_INTERVAL=1000  ${batched.toFixed(2)} s  ${rate(N_FULL, batched)}   ratio ${(one / batched).toFixed(1)}× (target ≥ 10)`,
);
rmSync(dir, { recursive: true, force: true });
