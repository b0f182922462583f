/**
 * `bun run bench:scale`: how every whole-queue command grows with the queue.
 * Fills one queue with 100-byte messages at each depth, then times each
 * command of the compiled CLI (and the library walks, and raw bun:sqlite
 * loops as the floor) in its own process under /usr/bin/time, recording wall
 * time and maximum RSS; SimpleBroker 3.6.1 runs the same commands on the same
 * files when /work/shared/reference (or BENCH_SCALE_REFERENCE) holds it.
 * Writes bench/results/scale-<date>.json and bench/results/scale.svg.
 *
 * Settings (environment): BENCH_SCALE_SIZES (SQLite depths, default
 * 10000,100000,200000,1000000), BENCH_SCALE_NET_SIZES (PostgreSQL and Redis,
 * default 10000,100000: each consuming command refills the queue over the
 * network, and a million claims one transaction at a time takes minutes
 * there), BENCH_SCALE_BINARY (a compiled CLI; default: built from this tree),
 * BENCH_SCALE_TIMEOUT (seconds per command, default 600; a command past it
 * is recorded as failed, with no point in the chart), BENCH_SCALE_REFERENCE_TIMEOUT
 * (the same for SimpleBroker 3.6.1),
 * BROKER_SYNC_MODE (default NORMAL, for every program measured),
 * BROKER_TEST_POSTGRES_URL / BROKER_TEST_REDIS_URL (skipped when unset).
 * @module
 */
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { scaleChart, type Point } from "./scale-chart.ts";

const root = join(import.meta.dir, "..");
const work = mkdtempSync(join(tmpdir(), "sb-scale-"));
const list = (v: string | undefined, d: number[]) => (v === "none" ? [] : v ? v.split(",").map(Number) : d);
const SIZES = list(process.env.BENCH_SCALE_SIZES, [10_000, 100_000, 200_000, 1_000_000]);
const NET_SIZES = list(process.env.BENCH_SCALE_NET_SIZES, [10_000, 100_000]);
const TIMEOUT_MS = Number(process.env.BENCH_SCALE_TIMEOUT ?? 600) * 1000;
const REFERENCE_TIMEOUT_MS = Number(process.env.BENCH_SCALE_REFERENCE_TIMEOUT ?? process.env.BENCH_SCALE_TIMEOUT ?? 600) * 1000;
const REFERENCE = process.env.BENCH_SCALE_REFERENCE ?? "/work/shared/reference/simplebroker-3.6.1";
const bun = process.execPath;
/** synchronous=NORMAL for every program measured (ours, 3.6.1, raw): the claim loops measure our work, not the disk's fsync. */
const SYNC = process.env.BROKER_SYNC_MODE ?? "NORMAL";
const binary = process.env.BENCH_SCALE_BINARY ?? build();
const points: Point[] = [];
// BENCH_SCALE_PREVIOUS: a results file of an earlier run whose points this run adds to (e.g. SQLite measured
// first, then BENCH_SCALE_SIZES=none with only the network backends); the chart shows them all.
const previous = process.env.BENCH_SCALE_PREVIOUS
  ? (JSON.parse(readFileSync(process.env.BENCH_SCALE_PREVIOUS, "utf8")) as { points: Point[]; notes?: string[] })
  : undefined;
if (previous) points.push(...previous.points);
const notes: string[] = [...(previous?.notes ?? [])];
const started = new Date();

/** One row of the results: a command at a depth. */
function record(command: string, impl: string, depth: number, r: Run): void {
  points.push({ command, impl, depth, seconds: r.seconds, rssMb: r.rssMb });
  save();
  const s = r.seconds === null ? `failed (${r.note})` : `${r.seconds.toFixed(2)} s, ${r.rssMb?.toFixed(0)} MB`;
  console.log(`${impl.padEnd(20)} ${String(depth).padStart(8)}  ${command.padEnd(16)} ${s}`);
}

/** Write the results and the chart so far (after every measurement: a long run stopped early keeps what it measured). */
function save(): void {
  const results = join(root, "bench/results");
  mkdirSync(results, { recursive: true });
  const day = started.toISOString().slice(0, 10);
  const meta = {
    startedAt: started.toISOString(),
    savedAt: new Date().toISOString(),
    bun: Bun.version,
    cpus: navigator.hardwareConcurrency,
  };
  writeFileSync(
    join(results, `scale-${day}.json`),
    `${JSON.stringify({ ...meta, loadAverage: loadavg(), syncMode: SYNC, sizes: SIZES, netSizes: NET_SIZES, notes, points }, null, 2)}\n`,
  );
  writeFileSync(
    join(results, "scale.svg"),
    scaleChart(points, `Whole-queue commands against queue depth (${day}, 100-byte bodies, log-log)`),
  );
}

interface Run {
  seconds: number | null;
  rssMb: number | null;
  note?: string;
}

/** Run `cmd` under /usr/bin/time; stdout to /dev/null (or `stdout`), stdin from `stdin`. */
function measure(
  cmd: string[],
  env: Record<string, string> = {},
  io: { stdin?: string; stdout?: string } = {},
  timeoutMs = TIMEOUT_MS,
): Run {
  const timing = join(work, "time.txt");
  const p = Bun.spawnSync(["/usr/bin/time", "-f", "%e %M", "-o", timing, ...cmd], {
    env: { ...process.env, BROKER_SYNC_MODE: SYNC, ...env },
    cwd: work,
    stdin: io.stdin ? Bun.file(io.stdin) : "ignore",
    stdout: io.stdout ? Bun.file(io.stdout) : "ignore",
    stderr: "pipe",
    timeout: timeoutMs,
  });
  if (p.signalCode) return { seconds: null, rssMb: null, note: `timed out after ${timeoutMs / 1000} s` };
  const [secs, kb] = readFileSync(timing, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  // Exit 2 is "queue empty" (a delete of nothing, say): still a finished run.
  if (p.exitCode !== 0 && p.exitCode !== 2)
    return { seconds: null, rssMb: null, note: `exit ${p.exitCode}: ${p.stderr.toString().trim().slice(0, 200)}` };
  return { seconds: secs!, rssMb: kb! / 1024 };
}

/** `watch q` until it has printed `depth` lines; time to the last one, VmHWM of the process. */
async function watchCatchUp(cmd: string[], env: Record<string, string>, depth: number): Promise<Run> {
  const t0 = performance.now();
  const p = Bun.spawn(cmd, { env: { ...process.env, BROKER_SYNC_MODE: SYNC, ...env }, stdout: "pipe", stderr: "ignore" });
  let lines = 0;
  const reader = p.stdout.getReader();
  const stop = setTimeout(() => p.kill("SIGKILL"), TIMEOUT_MS);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const b of value) if (b === 10) lines++;
    if (lines >= depth) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  let rssMb: number | null = null;
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, "utf8"))?.[1];
    rssMb = kb ? Number(kb) / 1024 : null;
  } catch {}
  clearTimeout(stop);
  p.kill("SIGINT");
  await p.exited;
  return lines >= depth ? { seconds, rssMb } : { seconds: null, rssMb: null, note: `${lines} lines` };
}

function build(): string {
  const out = join(work, "broker");
  const p = Bun.spawnSync(
    [bun, "scripts/build.ts", "cli/index.ts", "--outfile", out], // as `npm run build` compiles it
    { cwd: root, stdout: "ignore", stderr: "pipe" },
  );
  if (p.exitCode !== 0) throw new Error(`build failed: ${p.stderr}`);
  return out;
}

/** A SQLite file holding `depth` pending 100-byte messages in queue q (schema made by our CLI). */
function sqliteFixture(depth: number): string {
  const path = join(work, `fill-${depth}.db`);
  Bun.spawnSync([binary, "-f", path, "write", "q", "x"]);
  Bun.spawnSync([binary, "-f", path, "delete", "q"]);
  const db = new Database(path);
  db.run(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${depth})
    INSERT INTO messages (queue, body, ts) SELECT 'q', printf('%0100d', i), (SELECT value FROM meta WHERE key = 'last_ts') + i * 4096 FROM c`);
  db.run("UPDATE meta SET value = (SELECT MAX(ts) FROM messages) WHERE key = 'last_ts'");
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  return path;
}

/** The commands, each as argv after the target options; `fresh` ones consume the queue. */
const COMMANDS: { name: string; argv: string[]; fresh: boolean; python?: boolean }[] = [
  { name: "peek --all", argv: ["peek", "q", "--all"], fresh: false, python: true },
  { name: "read --all", argv: ["read", "q", "--all"], fresh: true, python: true },
  { name: "move --all", argv: ["move", "q", "q2", "--all"], fresh: true, python: true },
  { name: "delete q", argv: ["delete", "q"], fresh: true, python: true },
  { name: "broadcast", argv: ["broadcast", "hello"], fresh: true, python: true },
];
const LIB_OPS = ["peekGenerator", "peekMany", "readGenerator", "moveGenerator"];

const hasDump = Bun.spawnSync([binary, "dump", "--help"]).exitCode === 0;
if (!hasDump) notes.push("dump/load: not in this build yet (slot kept in the chart once the commands land)");

async function sqliteRuns(depth: number): Promise<void> {
  const base = sqliteFixture(depth);
  const copy = () => {
    const p = join(work, `run-${depth}.db`);
    for (const s of ["", "-wal", "-shm"]) rmSync(p + s, { force: true });
    copyFileSync(base, p);
    return p;
  };
  const python = existsSync(REFERENCE) ? ["python3", "-m", "simplebroker"] : null;
  const pyEnv = { PYTHONPATH: REFERENCE };
  for (const c of COMMANDS) {
    const p = c.fresh ? copy() : base;
    record(c.name, "ours sqlite", depth, measure([binary, "-f", p, ...c.argv]));
    if (python && c.python)
      record(
        c.name,
        "SimpleBroker 3.6.1",
        depth,
        measure([...python, "-f", c.fresh ? copy() : base, ...c.argv], pyEnv, {}, REFERENCE_TIMEOUT_MS),
      );
  }
  // --vacuum after a read --all: every row claimed.
  for (const [impl, cmd, env] of [["ours sqlite", [binary], {}], ...(python ? [["SimpleBroker 3.6.1", python, pyEnv]] : [])] as [
    string,
    string[],
    Record<string, string>,
  ][]) {
    const p = copy();
    Bun.spawnSync([binary, "-f", p, "read", "q", "--all"], { env: { ...process.env, BROKER_SYNC_MODE: SYNC }, stdout: "ignore" });
    record(
      "--vacuum",
      impl,
      depth,
      measure([...cmd, "-f", p, "--vacuum"], env, {}, impl === "ours sqlite" ? TIMEOUT_MS : REFERENCE_TIMEOUT_MS),
    );
  }
  record("watch catch-up", "ours sqlite", depth, await watchCatchUp([binary, "-f", copy(), "watch", "q"], {}, depth));
  if (hasDump) {
    const dump = join(work, "dump.ndjson");
    record("dump", "ours sqlite", depth, measure([binary, "-f", base, "dump"], {}, { stdout: dump }));
    const target = join(work, `load-${depth}.db`);
    rmSync(target, { force: true });
    record("load", "ours sqlite", depth, measure([binary, "-f", target, "load"], {}, { stdin: dump }));
  }
  for (const op of LIB_OPS)
    record(`lib ${op}`, "ours sqlite", depth, measure([bun, join(root, "bench/scale-child.ts"), copy(), op]));
  record("peek --all", "raw bun:sqlite", depth, measure([bun, join(root, "bench/scale-child.ts"), base, "raw-peek"]));
  record("read --all", "raw bun:sqlite", depth, measure([bun, join(root, "bench/scale-child.ts"), copy(), "raw-claim"]));
}

async function networkRuns(backend: "postgres" | "redis", url: string, depth: number): Promise<void> {
  const env = {
    BROKER_BACKEND: backend,
    BROKER_BACKEND_TARGET: url,
    BROKER_BACKEND_SCHEMA: "bench_scale",
  };
  const impl = `ours ${backend}`;
  const fill = async () => {
    Bun.spawnSync([binary, "delete", "--all"], { env: { ...process.env, ...env } });
    const body = "x".repeat(100);
    const chunk = join(work, "chunk.txt");
    writeFileSync(chunk, `${Array.from({ length: 1000 }, () => body).join("\n")}\n`);
    const fill = join(work, "fill.ts");
    writeFileSync(
      fill,
      `import { openBroker } from ${JSON.stringify(join(root, "index.ts"))};
await using b = await openBroker();
const bodies = Array.from({ length: 1000 }, () => ${JSON.stringify(body)});
for (let i = 0; i < ${depth}; i += 1000) await b.write("q", bodies.slice(0, Math.min(1000, ${depth} - i)));\n`,
    );
    const p = Bun.spawnSync([bun, fill], { env: { ...process.env, ...env }, stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`fill failed: ${p.stderr}`);
  };
  await fill();
  for (const c of COMMANDS) {
    if (c.fresh) await fill();
    record(c.name, impl, depth, measure([binary, ...c.argv], env));
  }
  await fill();
  Bun.spawnSync([binary, "read", "q", "--all"], { env: { ...process.env, BROKER_SYNC_MODE: SYNC, ...env }, stdout: "ignore" });
  record("--vacuum", impl, depth, measure([binary, "--vacuum"], env));
  await fill();
  record("watch catch-up", impl, depth, await watchCatchUp([binary, "watch", "q"], env, depth));
  for (const op of LIB_OPS) {
    await fill();
    record(`lib ${op}`, impl, depth, measure([bun, join(root, "bench/scale-child.ts"), "env", op], env));
  }
  Bun.spawnSync([binary, "delete", "--all"], { env: { ...process.env, ...env } });
}

console.log(`bench:scale in ${work}; SQLite depths ${SIZES.join(", ")}; PostgreSQL/Redis depths ${NET_SIZES.join(", ")}`);
for (const depth of SIZES) await sqliteRuns(depth);
for (const [backend, url] of [
  ["postgres", process.env.BROKER_TEST_POSTGRES_URL],
  ["redis", process.env.BROKER_TEST_REDIS_URL],
] as const) {
  if (previous?.points.some((p) => p.impl === `ours ${backend}`)) continue; // measured by the earlier run
  if (!url) {
    notes.push(`${backend}: skipped (no BROKER_TEST_${backend.toUpperCase()}_URL)`);
    continue;
  }
  for (const depth of NET_SIZES) await networkRuns(backend, url, depth);
}
if (SIZES.length > 0 && Math.max(...NET_SIZES) < Math.max(...SIZES)) {
  notes.push(
    `PostgreSQL and Redis measured up to ${Math.max(...NET_SIZES)} messages only (every consuming command refills the queue over the network)`,
  );
}
// Growth from the second-largest to the largest depth: linear work grows by the depth ratio.
for (const key of new Set(points.map((p) => `${p.impl}\t${p.command}`))) {
  const line = points.filter((p) => `${p.impl}\t${p.command}` === key && p.seconds !== null).sort((a, b) => a.depth - b.depth);
  if (line.length < 2) continue;
  const [a, b] = line.slice(-2) as [Point, Point];
  const growth = b.seconds! / a.seconds!;
  console.log(
    `growth ${key.replace("\t", " ")}: ${growth.toFixed(2)}x time for ${(b.depth / a.depth).toFixed(1)}x depth (${a.depth} -> ${b.depth}), max RSS ${b.rssMb?.toFixed(0)} MB`,
  );
}
for (const n of notes) console.log(`note: ${n}`);

save();
console.log(`wrote bench/results/scale-${started.toISOString().slice(0, 10)}.json and bench/results/scale.svg`);
rmSync(work, { recursive: true, force: true });
