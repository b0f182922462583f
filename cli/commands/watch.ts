import { ArgumentError } from "../../lib/core/errors.ts";
import { watchMessages, type WatchMode } from "../../lib/watch/watcher.ts";
import { UsageError } from "../argv.ts";
import { ARGS, command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { ClosedStdoutError, log } from "../output.ts";
import { parseFilters, RecordPrinter } from "../print.ts";

export const watch = command(
  { name: "watch", description: "Watch a queue and print messages as they arrive (SIGINT/SIGTERM stop it)" },
  {
    queue: { type: "positional", description: "Queue name or @alias" },
    peek: { type: "boolean", description: "Print without consuming" },
    move: { type: "string", description: "Move each message to this queue", valueHint: "DEST" },
    json: ARGS.json,
    timestamps: ARGS.timestamps,
    after: ARGS.after,
  },
  async (args, ctx) => {
    if (args.peek && args.move !== undefined) throw new UsageError("argument --move: not allowed with argument --peek");
    if (args.move !== undefined && args.after !== undefined) {
      throw new ArgumentError("--move drains ALL messages from source queue, incompatible with --after filtering", { code: "INVALID_ARGUMENT" });
    }
    const { after } = parseFilters(args);
    const broker = await ctx.broker();
    const queue = await broker.resolveQueue(args.queue as string);
    const dest = typeof args.move === "string" ? await broker.resolveQueue(args.move) : undefined;
    const mode: WatchMode = dest !== undefined ? { kind: "move", destination: dest } : { kind: args.peek ? "peek" : "consume", after };
    log.info(`Watching queue '${queue}' (${dest !== undefined ? `move to ${dest}` : args.peek ? "peek" : "consume"} mode)...`);
    if (dest === queue) throw new ArgumentError("Cannot move messages to the same queue");
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const printer = new RecordPrinter(args, true);
    try {
      for await (const m of watchMessages(broker, queue, mode, stop.signal)) {
        try {
          await printer.print(m);
        } catch (error) {
          // The reader went away: a consumed message nobody saw goes back (docs/compatibility.md#q8-closed-stdout).
          if (error instanceof ClosedStdoutError && mode.kind === "consume") {
            await broker.backend.move(queue, queue, { exactId: m.ts, requireUnclaimed: false });
          }
          throw error;
        }
      }
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    return EXIT.OK;
  },
);
