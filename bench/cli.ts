/**
 * CLI benchmarks: one `broker write` with the compiled binary against a
 * compiled program that only opens the database and inserts one row
 * (`bench/raw-insert-fixture.ts`), both built with the arguments of
 * `npm run build` (`--compile --minify --bytecode`, no .env/bunfig
 * autoload). hyperfine is not assumed: each command runs N times through
 * `Bun.spawnSync`, interleaved, after a warm-up, and the medians of the wall
 * times are compared. For information it also times the uncompiled forms and
 * `--version` against an empty program (startup and import cost).
 *
 * To check a change against an earlier commit, set `BENCH_CLI_BASELINE` to a
 * git ref (`BENCH_CLI_BASELINE=HEAD~3 bun bench/run.ts --only cli`): that
 * commit's tree is exported with `git archive`, compiled the same way, and its
 * `write` and `--version` are timed in the same rotation, with a 1.10 target
 * (start-up within 10% of the earlier build) on wall and on CPU time.
 *
 * To see where a CLI call spends its time, count instructions and page
 * faults (docs/start-up.md: deterministic to ~1 %, where times on a shared
 * machine vary by 10 %), or build a profiling binary and aggregate its
 * samples:
 *
 *     bun build cli/index.ts --compile --bytecode --no-compile-autoload-dotenv \
 *       --compile-exec-argv="--cpu-prof --cpu-prof-interval=25 --cpu-prof-dir=/tmp/prof" \
 *       --outfile /tmp/broker-prof     # no --minify: function names stay readable
 *
 * What showed up there, and is now kept off the common paths: loading
 * `node:fs` (3-5 ms in a compiled binary) and `node:path` (~2 ms); the first
 * call of a function that mentions a lazily built global (`Buffer`,
 * `SharedArrayBuffer`: ~0.2-0.6 ms); the first use of builtins written in JS
 * (`Array.from`, `filter`, `flatMap`) and of each regex (0.1-0.7 ms each).
 * citty itself is small, but its argument parser is `node:util`'s `parseArgs`,
 * and loading `node:util` costs a compiled binary ~4-6 ms (its internal
 * validators and promisify modules), once for every command dispatched
 * through citty's `runCommand`. scripts/build.ts (what `npm run build` and
 * `buildArgs` run) therefore points citty's import at
 * cli/_citty-parse-args.ts; a profiling binary built with `bun build` as
 * above still loads `node:util`.
 * @module
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildArgs } from "../test/helpers.ts";
import { measurement, type Measurement } from "./sqlite.ts";

const ROOT = resolve(import.meta.dir, "..");

export interface CliBenchOptions {
  /** Scratch directory (binaries and database files). */
  dir: string;
  /** Timed runs per command. */
  runs: number;
  /** A git ref to compare against (default: `$BENCH_CLI_BASELINE`); none: no comparison. */
  baseline?: string;
  progress?: (line: string) => void;
}

/** An environment without BROKER_* settings (defaults: FULL sync, `.broker.db`). */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BROKER_") && v !== undefined) env[k] = v;
  return env;
}

/** Compile `entry` with the arguments of `npm run build`, so both programs are built like the shipped binary. */
function build(entry: string, outfile: string): void {
  const r = Bun.spawnSync([process.execPath, ...buildArgs(entry, outfile)], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`bun build ${entry} failed:\n${r.stderr.toString()}${r.stdout.toString()}`);
}

/** Export `ref`'s tree into `dir` (with this checkout's node_modules) and compile its CLI to `outfile`. */
function buildAt(ref: string, dir: string, outfile: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const r = Bun.spawnSync(["sh", "-c", 'git archive "$1" | tar -x -C "$2"', "sh", ref, dir], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`git archive ${ref} failed: ${r.stderr.toString().trim()}`);
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  const b = Bun.spawnSync([process.execPath, ...buildArgs(join(dir, "cli/index.ts"), outfile)], {
    cwd: dir,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (b.exitCode !== 0) throw new Error(`bun build of ${ref} failed:\n${b.stderr.toString()}${b.stdout.toString()}`);
}

interface Cmd {
  argv: string[];
  cwd: string;
}

/** Wall time of one run, ms (and, in `cpu`, its user + system CPU time, ms); throws when the command fails. */
function runOnce(cmd: Cmd, env: Record<string, string>, cpu?: number[]): number {
  const t0 = performance.now();
  const r = Bun.spawnSync(cmd.argv, { cwd: cmd.cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t0;
  if (r.exitCode !== 0) throw new Error(`${cmd.argv.join(" ")} exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
  const usage = r.resourceUsage?.cpuTime;
  if (cpu && usage) cpu.push(Number(usage.user + usage.system) / 1000);
  return ms;
}

/** Build, warm up, then time every command `runs` times in rotating order. */
export function runCliBenches(opts: CliBenchOptions): Measurement[] {
  const say = opts.progress ?? (() => {});
  const bin = join(opts.dir, "bin");
  mkdirSync(bin, { recursive: true });
  const broker = join(bin, "broker");
  const rawBin = join(bin, "raw-insert");
  const bareBin = join(bin, "bare");
  const bareSrc = join(bin, "bare.ts");
  writeFileSync(bareSrc, "// an empty program: the floor of process start-up\nexport {};\n");
  say("cli: compiling cli/index.ts, bench/raw-insert-fixture.ts and an empty program");
  build(join(ROOT, "cli/index.ts"), broker);
  build(join(ROOT, "bench/raw-insert-fixture.ts"), rawBin);
  build(bareSrc, bareBin);
  const baseline = opts.baseline ?? process.env.BENCH_CLI_BASELINE;
  const baselineBin = join(bin, "broker-baseline");
  if (baseline) {
    say(`cli: compiling cli/index.ts of ${baseline}`);
    buildAt(baseline, join(opts.dir, "baseline-src"), baselineBin);
  }

  const env = cleanEnv();
  const dirs = Object.fromEntries(
    ["compiled", "raw", "uncompiled", "rawUncompiled"].map((k) => {
      const d = join(opts.dir, `cli-${k}`);
      mkdirSync(d, { recursive: true });
      return [k, d];
    }),
  ) as Record<"compiled" | "raw" | "uncompiled" | "rawUncompiled", string>;
  // Every database file is created by our CLI, so the raw program writes into the same schema.
  for (const d of Object.values(dirs)) runOnce({ argv: [broker, "write", "q", "setup"], cwd: d }, env);
  const baselineDir = join(opts.dir, "cli-baseline");
  if (baseline) {
    mkdirSync(baselineDir, { recursive: true });
    runOnce({ argv: [baselineBin, "write", "q", "setup"], cwd: baselineDir }, env);
  }

  const fixture = join(ROOT, "bench/raw-insert-fixture.ts");
  const cli = join(ROOT, "cli/index.ts");
  const cmds: Record<string, Cmd> = {
    compiled: { argv: [broker, "write", "q", "hello"], cwd: dirs.compiled },
    raw: { argv: [rawBin, join(dirs.raw, ".broker.db"), "q", "hello"], cwd: dirs.raw },
    uncompiled: { argv: [process.execPath, cli, "write", "q", "hello"], cwd: dirs.uncompiled },
    rawUncompiled: {
      argv: [process.execPath, fixture, join(dirs.rawUncompiled, ".broker.db"), "q", "hello"],
      cwd: dirs.rawUncompiled,
    },
    versionCompiled: { argv: [broker, "--version"], cwd: opts.dir },
    bareCompiled: { argv: [bareBin], cwd: opts.dir },
    versionUncompiled: { argv: [process.execPath, cli, "--version"], cwd: opts.dir },
    bareUncompiled: { argv: [process.execPath, bareSrc], cwd: opts.dir },
  };
  if (baseline) {
    cmds.baselineWrite = { argv: [baselineBin, "write", "q", "hello"], cwd: baselineDir };
    cmds.baselineVersion = { argv: [baselineBin, "--version"], cwd: opts.dir };
  }
  const keys = Object.keys(cmds);
  const t: Record<string, number[]> = Object.fromEntries(keys.map((k) => [k, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(keys.map((k) => [k, []]));
  say(`cli: ${opts.runs} runs of ${keys.length} commands`);
  for (let i = 0; i < 3; i++) for (const k of keys) runOnce(cmds[k]!, env);
  for (let i = 0; i < opts.runs; i++) {
    for (let j = 0; j < keys.length; j++) {
      const k = keys[(i + j) % keys.length]!;
      t[k]!.push(runOnce(cmds[k]!, env, cpu[k]));
    }
  }
  // Wall time is what a user waits for; CPU time (user + system) barely moves when other processes
  // share the machine, so a busy machine can still tell whether a change kept start-up within 10%.
  const vsBaseline = baseline
    ? (["wall", "cpu"] as const).flatMap((clock) => {
        const m = clock === "wall" ? t : cpu;
        const extra = {
          baseLabel: "then",
          target: { op: "<=", value: 1.1 },
          note: `${clock} time; then = built from ${baseline}`,
        } as const;
        return [
          measurement(`cli write vs ${baseline} (compiled, ${clock})`, "ms", m.compiled!, m.baselineWrite!, extra),
          measurement(`cli --version vs ${baseline} (compiled, ${clock})`, "ms", m.versionCompiled!, m.baselineVersion!, extra),
        ];
      })
    : [];
  return [
    ...vsBaseline,
    measurement("cli write (compiled binary)", "ms", t.compiled!, t.raw!, {
      baseLabel: "raw",
      target: { op: "<=", value: 1.5 },
      note: "raw = compiled raw-insert-fixture",
    }),
    measurement("cli write (bun cli/index.ts)", "ms", t.uncompiled!, t.rawUncompiled!, {
      note: "raw = bun bench/raw-insert-fixture.ts",
    }),
    measurement("cli --version (compiled binary)", "ms", t.versionCompiled!, t.bareCompiled!, {
      baseLabel: "empty",
      note: "start-up + imports vs an empty compiled program",
    }),
    measurement("cli --version (bun cli/index.ts)", "ms", t.versionUncompiled!, t.bareUncompiled!, {
      baseLabel: "empty",
      note: "vs bun <empty script>",
    }),
  ];
}
