import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** Absolute path of the CLI entry point. */
export const CLI = resolve(import.meta.dir, "../cli/index.ts");

/** A fresh temporary directory (realpath), removed on dispose. */
export function tempDir(prefix = "sb-"): { path: string } & Disposable {
  const path = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Run the real CLI in a subprocess with a clean BROKER_* environment. */
export async function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; stdin?: string | Uint8Array; cmd?: string[] } = {},
): Promise<CliResult> {
  const env = childEnv(opts.env);
  const proc = Bun.spawn([...(opts.cmd ?? [process.execPath, CLI]), ...args], {
    cwd: opts.cwd,
    env,
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, exitCode };
}

let counter = 0;
/** A name unique to this process and call, for schemas, namespaces and queues. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${(counter++).toString(36)}`;
}

/** A small seeded PRNG (mulberry32) returning floats in [0, 1), so a failing random case always reproduces. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Arguments for `bun` that compile `entry` to `outfile` the way `npm run
 * build` compiles the CLI (scripts/build.ts), so tests build the binary users
 * get: `Bun.spawn([process.execPath, ...buildArgs(entry, outfile)])`.
 */
export function buildArgs(entry: string, outfile: string): string[] {
  return [resolve(import.meta.dir, "../scripts/build.ts"), entry, "--outfile", outfile];
}

/** The copies of the golden transcripts recorded from SimpleBroker 3.6.1. */
export const GOLDEN_DIR = resolve(import.meta.dir, "golden");

/**
 * Run `golden.py check` against a CLI command line (plus `extra` arguments
 * such as `--toml`/`--skip`). Returns its last line (`N passed, M failed`),
 * the whole output for failure reports, its exit code and its pid.
 */
export async function goldenCheck(
  cli: string,
  extra: string[] = [],
): Promise<{ summary: string; output: string; exitCode: number; pid: number }> {
  const env = childEnv();
  const proc = Bun.spawn(
    [
      "python3",
      join(GOLDEN_DIR, "golden.py"),
      "check",
      "--cli",
      cli,
      "--scenarios",
      join(GOLDEN_DIR, "scenarios.json"),
      "--transcript",
      join(GOLDEN_DIR, "transcript.json"),
      ...extra,
    ],
    { env, stdout: "pipe", stderr: "pipe" },
  );
  const [output, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { summary: output.trimEnd().split("\n").at(-1) ?? "", output: output + stderr, exitCode, pid: proc.pid };
}

/**
 * The environment for a child process: this one without any BROKER_* variable, plus `extra`.
 * The Redis persistence warning is silenced unless `extra` sets BROKER_REDIS_PERSISTENCE_WARNING.
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { BROKER_REDIS_PERSISTENCE_WARNING: "0" };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BROKER_") && v !== undefined) env[k] = v;
  return Object.assign(env, extra);
}

/** The lines of a child's output stream as they arrive (without the newline). */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
      yield buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
    }
  }
}

/** Call `each` with every non-empty line of `stream` as it arrives, the last one even without a newline. */
export async function eachLine(stream: ReadableStream<Uint8Array>, each: (line: string) => void): Promise<void> {
  let rest = "";
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    const parts = (rest + decoder.decode(bytes, { stream: true })).split("\n");
    rest = parts.pop()!;
    for (const l of parts) if (l) each(l);
  }
  if (rest) each(rest);
}

/** Resolve once `ok()` holds, looking every `stepMs`; reject after `ms`. */
export async function waitFor(ok: () => boolean, ms: number, what = "condition", stepMs = 20): Promise<void> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await Bun.sleep(stepMs);
  }
}
