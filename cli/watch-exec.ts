/**
 * `watch Q --exec CMD`: a worker (docs/leases.md#library-and-cli) that runs
 * CMD through `sh -c` once per message, the body on stdin, the id in
 * `BROKER_MESSAGE_ID` and the attempt in `BROKER_ATTEMPT`; exit 0 acks,
 * anything else releases with backoff, and after `--max-attempts` the
 * message moves to `<queue>.dead`.
 * @module
 */
import { waitingResolver } from "../lib/watch/reconnect.ts";
import { ArgumentError } from "../lib/core/errors.ts";
import { deadLetterName } from "../lib/queue/_worker.ts";
import { type ParsedValues, UsageError } from "./argv.ts";
import type { CliContext } from "./context.ts";
import { parseDuration } from "./duration.ts";
import type { ExitCode } from "./exit.ts";
import { log } from "./output.ts";
import { exitAfterSignal, withStopSignals } from "./signals.ts";

/** The options `watch` takes for the worker. */
export const EXEC_ARGS = {
  exec: { type: "string", description: "Run CMD (sh -c) per message, body on stdin; exit 0 acks, else retry", valueHint: "CMD" },
  lease: { type: "string", description: "With --exec: lease length, extended while CMD runs (default 30s)", valueHint: "DUR" },
  "max-attempts": {
    type: "string",
    description: "With --exec: runs before a message moves to <queue>.dead (default 5)",
    valueHint: "N",
  },
  concurrency: { type: "string", description: "With --exec: commands running at once (default 1)", valueHint: "N" },
} as const;

/** True when the worker options were given. */
export function wantsExec(args: ParsedValues): boolean {
  return Object.keys(EXEC_ARGS).some((name) => args[name] !== undefined);
}

/** Run the worker until a stop signal; returns the exit status. */
export async function runExecWorker(args: ParsedValues, ctx: CliContext): Promise<ExitCode> {
  for (const name of Object.keys(EXEC_ARGS)) {
    if (name !== "exec" && args[name] !== undefined && args.exec === undefined) {
      throw new UsageError(`argument --${name}: requires --exec`);
    }
  }
  for (const other of ["peek", "move", "after", "json", "timestamps"]) {
    if (args[other] !== undefined && args[other] !== false)
      throw new UsageError(`argument --exec: not allowed with argument --${other}`);
  }
  const cmd = args.exec as string;
  const leaseMs = typeof args.lease === "string" ? parseDuration(args.lease, "--lease") : 30_000;
  const maxAttempts = count(args["max-attempts"], "--max-attempts", 5);
  const concurrency = count(args.concurrency, "--concurrency", 1);
  const broker = await ctx.broker();
  const queue = await waitingResolver(broker)(args.queue as string); // a server down now is waited for (docs/outages.md)
  log.info(`Watching queue '${queue}' (exec mode)...`);
  const stopped = await withStopSignals(async (signal) => {
    await broker.queue(queue).process(
      async (job) => {
        const child = Bun.spawn(["sh", "-c", cmd], {
          stdin: new TextEncoder().encode(job.body),
          stdout: "inherit",
          stderr: "inherit",
          env: { ...process.env, BROKER_MESSAGE_ID: String(job.ts), BROKER_ATTEMPT: String(job.attempt) },
        });
        const status = await child.exited;
        if (status !== 0) throw new CommandFailed(`command exited with status ${status}`);
      },
      {
        signal,
        leaseMs,
        maxAttempts,
        concurrency,
        onError: (error, job) => {
          const text = `Message ${job.ts} (attempt ${job.attempt}): ${error instanceof Error ? error.message : error}`;
          if (!(error instanceof CommandFailed)) return log.warn(text); // a store error: the lease ends, the message comes back
          log.warn(`${text}; ${job.attempt >= maxAttempts ? `moving it to '${deadLetterName(queue)}'` : "will retry"}`);
        },
      },
    );
    return signal.reason;
  });
  return exitAfterSignal(stopped, "watch");
}

/** CMD ended with a non-zero status. */
class CommandFailed extends Error {
  override name = "CommandFailed";
}

/** A positive integer option (`--max-attempts`, `--concurrency`). */
function count(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value as string) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new ArgumentError(`Invalid value for ${option}: '${value}' (expected a positive integer)`);
  return n;
}
