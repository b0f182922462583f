#!/usr/bin/env bun
/**
 * The bench suite's single entry (`bun run bench`). Runs every comparison of
 * issue 6 against raw `bun:sqlite` on the same disk in the same run, prints
 * one line per result (ours, the baseline, their ratio, the target and the
 * verdict), runs the watcher wake-latency benches of other files as
 * subprocesses when they exist, and writes everything as JSON to
 * `bench/results/<YYYY-MM-DD>.json`.
 *
 *     bun bench/run.ts [--quick] [--only sqlite,cli,wake] [--dir DIR]
 *                      [--rounds N] [--budget MS] [--runs N] [--no-json] [--check]
 *
 * `--dir` chooses the disk under test (default: a fresh directory in the
 * system temp dir); `--check` exits 1 when a target is missed.
 * @module
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runCliBenches } from "./cli.ts";
import { runSqliteBenches, type Measurement } from "./sqlite.ts";

const BENCH_DIR = import.meta.dir;
const ROOT = resolve(BENCH_DIR, "..");

interface Options {
  quick: boolean;
  only: Set<string>;
  dir?: string;
  rounds: number;
  budgetMs: number;
  runs: number;
  json: boolean;
  check: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    quick: false,
    only: new Set(["sqlite", "cli", "wake"]),
    rounds: 7,
    budgetMs: 250,
    runs: 30,
    json: true,
    check: false,
  };
  let rounds: number | undefined;
  let budget: number | undefined;
  let runs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--quick") o.quick = true;
    else if (a === "--only") o.only = new Set(value().split(","));
    else if (a === "--dir") o.dir = resolve(value());
    else if (a === "--rounds") rounds = Number(value());
    else if (a === "--budget") budget = Number(value());
    else if (a === "--runs") runs = Number(value());
    else if (a === "--no-json") o.json = false;
    else if (a === "--check") o.check = true;
    else if (a === "-h" || a === "--help") {
      console.log(
        "usage: bun bench/run.ts [--quick] [--only sqlite,cli,wake] [--dir DIR] [--rounds N] [--budget MS] [--runs N] [--no-json] [--check]",
      );
      process.exit(0);
    } else throw new Error(`unknown option: ${a}`);
  }
  o.rounds = rounds ?? (o.quick ? 3 : 7);
  o.budgetMs = budget ?? (o.quick ? 120 : 250);
  o.runs = runs ?? (o.quick ? 10 : 30);
  return o;
}

// --- formatting ---

function fmtValue(v: number, unit: Measurement["unit"]): string {
  if (!Number.isFinite(v)) return "n/a";
  return unit === "ms" ? `${v.toFixed(1)}ms` : `${Math.round(v)}/s`;
}

interface Verdict {
  ok: boolean | undefined;
  text: string;
}

function verdict(m: Measurement): Verdict {
  if (!m.target) return { ok: undefined, text: "info" };
  const { op, value, minOurs } = m.target;
  let ok = op === ">=" ? m.ratio >= value : m.ratio <= value;
  let text = `target ${op} ${value.toFixed(2)}`;
  if (minOurs !== undefined) {
    ok &&= m.ours >= minOurs;
    text += ` and >= ${fmtValue(minOurs, m.unit)}`;
  }
  return { ok, text: `${text}  ${ok ? "OK" : "MISS"}` };
}

function formatLine(m: Measurement): string {
  const v = verdict(m);
  const base = `${m.baseLabel ?? "raw"} ${fmtValue(m.base, m.unit)}`;
  return [
    m.name.padEnd(48),
    `ours ${fmtValue(m.ours, m.unit).padStart(9)}`,
    base.padEnd(18),
    `ratio ${m.ratio.toFixed(2).padStart(5)}`,
    v.text,
    m.note ? `  (${m.note})` : "",
  ]
    .join("   ")
    .trimEnd();
}

// --- subprocess benches of other files ---

interface SubResult {
  file: string;
  status: "ok" | "skipped" | "failed";
  reason?: string;
  exitCode?: number;
  lines: string[];
}

/** True when a TCP connection to `url`'s host and port opens within 1.5 s. */
async function serviceUp(url: string, defaultPort: number): Promise<boolean> {
  let host = "127.0.0.1";
  let port = defaultPort;
  try {
    const u = new URL(url);
    host = u.hostname || host;
    port = u.port ? Number(u.port) : defaultPort;
  } catch {
    // keep the defaults
  }
  const attempt = new Promise<boolean>((done) => {
    Bun.connect({
      hostname: host,
      port,
      socket: {
        open(s) {
          s.end();
          done(true);
        },
        data() {},
        error() {
          done(false);
        },
        connectError() {
          done(false);
        },
      },
    }).catch(() => done(false));
  });
  return Promise.race([attempt, Bun.sleep(1500).then(() => false)]);
}

async function runSubBench(file: string, service?: { name: string; url: string; port: number }): Promise<SubResult> {
  const path = join(BENCH_DIR, file);
  if (!existsSync(path)) return { file, status: "skipped", reason: `bench/${file} not present`, lines: [] };
  if (service && !(await serviceUp(service.url, service.port))) {
    return { file, status: "skipped", reason: `${service.name} not reachable at ${service.url}`, lines: [] };
  }
  const proc = Bun.spawn([process.execPath, path], { cwd: ROOT, stdout: "pipe", stderr: "pipe", env: process.env });
  const timer = setTimeout(() => proc.kill(), 300_000);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  const lines = stdout.split("\n").filter((l) => l.trim() !== "");
  if (exitCode !== 0) {
    const tail = stderr.trim().split("\n").slice(-5).join(" | ");
    return { file, status: "failed", exitCode, reason: `exit ${exitCode}${tail ? `: ${tail}` : ""}`, lines };
  }
  return { file, status: "ok", exitCode, lines };
}

// --- main ---

function localDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const started = new Date();
  const ownDir = o.dir === undefined;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "sb-bench-"));
  mkdirSync(dir, { recursive: true });
  const printed: string[] = [];
  const print = (line = "") => {
    printed.push(line);
    console.log(line);
  };
  const progress = (line: string) => process.stderr.write(`# ${line}\n`);

  print(
    `simplebroker bench  ${started.toISOString()}  bun ${Bun.version}  ${process.platform}/${process.arch}  ${cpus().length} cpu`,
  );
  print(`disk under test: ${dir}   rounds ${o.rounds} x ${o.budgetMs}ms   cli runs ${o.runs}`);
  print("ratio = ours/raw throughput for /s lines, ours/raw wall time for ms lines; medians of interleaved rounds");
  print();

  const measurements: Measurement[] = [];
  const subs: SubResult[] = [];
  try {
    if (o.only.has("sqlite")) {
      for (const m of await runSqliteBenches({ dir: join(dir, "sqlite"), rounds: o.rounds, budgetMs: o.budgetMs, progress })) {
        measurements.push(m);
        print(formatLine(m));
      }
    }
    if (o.only.has("cli")) {
      for (const m of runCliBenches({ dir: join(dir, "cli"), runs: o.runs, progress })) {
        measurements.push(m);
        print(formatLine(m));
      }
    }
    if (o.only.has("wake")) {
      const pgUrl = process.env.BENCH_PG_URL ?? process.env.PG_URL ?? process.env.DATABASE_URL ?? "postgres://127.0.0.1:5432";
      const redisUrl = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
      const plan: Array<[string, { name: string; url: string; port: number } | undefined]> = [
        ["wake.ts", undefined],
        ["pg-wake.ts", { name: "postgres", url: pgUrl, port: 5432 }],
        ["redis-wake.ts", { name: "redis", url: redisUrl, port: 6379 }],
      ];
      print();
      for (const [file, service] of plan) {
        progress(`running bench/${file}`);
        const r = await runSubBench(file, service);
        subs.push(r);
        const head = `watcher wake (bench/${file})`;
        if (r.status === "skipped") print(`${head.padEnd(48)}   skipped: ${r.reason}`);
        else {
          print(`${head}${r.status === "failed" ? `   FAILED: ${r.reason}` : ""}`);
          for (const l of r.lines) print(`  ${l}`);
        }
      }
    }
  } finally {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  }

  const misses = measurements.filter((m) => verdict(m).ok === false);
  print();
  print(misses.length === 0 ? "all targets met" : `targets missed: ${misses.map((m) => m.name).join("; ")}`);

  if (o.json) {
    const outDir = join(BENCH_DIR, "results");
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${localDate(started)}.json`);
    const data = {
      date: localDate(started),
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      bun: Bun.version,
      platform: `${process.platform}/${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      dir,
      options: { quick: o.quick, only: [...o.only], rounds: o.rounds, budgetMs: o.budgetMs, cliRuns: o.runs },
      results: measurements.map((m) => ({ ...m, ok: verdict(m).ok ?? null })),
      subprocesses: subs,
      output: printed,
    };
    writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
    progress(`results written to ${file}`);
  }
  return o.check && misses.length ? 1 : 0;
}

process.exitCode = await main();
