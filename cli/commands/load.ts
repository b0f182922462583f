import { ArgumentError } from "../../lib/core/errors.ts";
import { command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { log } from "../output.ts";
import { startProgress } from "../progress.ts";

export const load = command(
  {
    name: "load",
    description: "Read a simplebroker-dump from stdin into this broker (all or nothing where the backend has transactions)",
    examples: ["load < backup.ndjson", "load --force < future.ndjson"],
  },
  { force: { type: "boolean", description: "Load a dump whose last id lies too far ahead of this machine's clock" } },
  async (args, ctx) => {
    if (process.stdin.isTTY) throw new ArgumentError("load reads a dump from stdin (e.g. broker load < backup.ndjson)");
    const skew = process.env.BROKER_LOAD_MAX_FUTURE_SKEW_SECONDS;
    const maxFutureSkewSeconds = skew === undefined || skew === "" ? 300 : Number(skew);
    if (!Number.isFinite(maxFutureSkewSeconds) || maxFutureSkewSeconds < 0) {
      throw new ArgumentError(`Invalid BROKER_LOAD_MAX_FUTURE_SKEW_SECONDS: ${skew}`);
    }
    const broker = await ctx.broker();
    const progress = startProgress("load", ctx.globals.quiet);
    try {
      await broker.load(stdinLines(), {
        force: args.force === true,
        maxFutureSkewSeconds,
        warn: (text) => log.warn(`warning: ${text}`),
        onMessage: () => progress.tick(),
      });
    } finally {
      progress.done();
    }
    return EXIT.OK;
  },
);

/** Stdin as UTF-8 lines, streamed (never the whole input in memory). */
async function* stdinLines(): AsyncGenerator<string, void, undefined> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of Bun.stdin.stream()) {
    rest += decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = rest.indexOf("\n"); nl !== -1; nl = rest.indexOf("\n", start)) {
      yield rest.slice(start, nl);
      start = nl + 1;
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  if (rest !== "") yield rest;
}
