import { ArgumentError } from "../../lib/core/errors.ts";
import { waitingResolver } from "../../lib/watch/reconnect.ts";
import type { WatchMode } from "../../lib/watch/watcher.ts";
import { UsageError } from "../argv.ts";
import { ARGS, command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { log } from "../output.ts";
import { parseFilters, printWalk, RecordPrinter } from "../print.ts";
import { EXEC_ARGS, runExecWorker, wantsExec } from "../watch-exec.ts";

export const watch = command(
  {
    name: "watch",
    description: "Watch a queue and print messages as they arrive (SIGINT/SIGTERM stop it)",
    examples: ["watch jobs", "watch jobs --peek --json", "watch inbox --move archive"],
  },
  {
    queue: { type: "positional", description: "Queue name or @alias" },
    peek: { type: "boolean", description: "Print without consuming" },
    move: { type: "string", description: "Move each message to this queue", valueHint: "DEST" },
    json: ARGS.json,
    timestamps: ARGS.timestamps,
    after: ARGS.after,
    ...EXEC_ARGS,
  },
  async (args, ctx) => {
    if (wantsExec(args)) return runExecWorker(args, ctx);
    if (args.peek && args.move !== undefined) throw new UsageError("argument --move: not allowed with argument --peek");
    if (args.move !== undefined && args.after !== undefined) {
      throw new ArgumentError("--move drains ALL messages from source queue, incompatible with --after filtering", {
        code: "INVALID_ARGUMENT",
      });
    }
    const { after } = parseFilters(args);
    const broker = await ctx.broker();
    // Resolving an @alias is the watch's first store call: a server down now is waited for (docs/outages.md).
    const resolve = waitingResolver(broker);
    const queue = await resolve(args.queue as string);
    const dest = typeof args.move === "string" ? await resolve(args.move) : undefined;
    const mode: WatchMode =
      dest !== undefined ? { kind: "move", destination: dest } : { kind: args.peek ? "peek" : "consume", after };
    log.info(`Watching queue '${queue}' (${dest !== undefined ? `move to ${dest}` : args.peek ? "peek" : "consume"} mode)...`);
    const end = await printWalk(broker, { queue, watch: mode }, new RecordPrinter(args, true), { signals: "watch" });
    if (end.exit !== undefined) return end.exit;
    return EXIT.OK;
  },
);
