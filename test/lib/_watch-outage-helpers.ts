/**
 * Helpers of the watch-reconnect tests: a CLI `broker watch` subprocess whose
 * stdout and stderr lines are collected as they come, and waiting for a
 * condition.
 */
import { CLI, waitFor } from "../helpers.ts";

export { waitFor };

/** A running `broker …` subprocess with its output so far. */
export interface LiveCli {
  proc: ReturnType<typeof Bun.spawn>;
  out: string[];
  err: string[];
  /** Ends it (SIGTERM) and waits for its output to be read. */
  stop(): Promise<number>;
}

/** Start the CLI with `args` in `cwd` with `env` (added to a clean, BROKER_*-free environment). */
export function spawnCli(args: string[], env: Record<string, string>, cwd?: string): LiveCli {
  return spawnBun([CLI, ...args], env, cwd);
}

/** Run `bun <argv>` (a script and its arguments) the same way. */
export function spawnBun(argv: string[], env: Record<string, string>, cwd?: string): LiveCli {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("BROKER_")) base[k] = v;
  const proc = Bun.spawn([process.execPath, ...argv], { env: { ...base, ...env }, cwd, stdout: "pipe", stderr: "pipe" });
  const out: string[] = [];
  const err: string[] = [];
  const reading = Promise.all([
    collect(proc.stdout as ReadableStream<Uint8Array>, out),
    collect(proc.stderr as ReadableStream<Uint8Array>, err),
  ]);
  return {
    proc,
    out,
    err,
    stop: async () => {
      proc.kill("SIGTERM");
      const code = await proc.exited;
      await reading;
      return code;
    },
  };
}

async function collect(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const bytes of stream) {
    const parts = (rest + decoder.decode(bytes, { stream: true })).split("\n");
    rest = parts.pop()!;
    for (const line of parts) into.push(line);
  }
  if (rest) into.push(rest);
}
