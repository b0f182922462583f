import { ArgumentError } from "../../lib/core/errors.ts";
import { UsageError } from "../argv.ts";
import { ARGS, command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { ClosedStdoutError } from "../output.ts";
import { parseFilters, RecordPrinter } from "../print.ts";

/** `move --all` moves at most this many messages in one transaction (as 3.6.1). */
const MOVE_ALL_LIMIT = 1_000_000;

export const move = command(
  { name: "move", description: "Move messages from one queue to another" },
  {
    source: { type: "positional", description: "Source queue or @alias" },
    destination: { type: "positional", description: "Destination queue or @alias" },
    ...ARGS,
  },
  async (args, ctx) => {
    if (args.message !== undefined && args.all) throw new UsageError("argument --all: not allowed with argument -m/--message");
    if (args.message !== undefined && (args.after !== undefined || args.before !== undefined)) {
      throw new ArgumentError("--message cannot be used with --after or --before");
    }
    const f = parseFilters(args);
    const broker = await ctx.broker();
    const [src, dst] = await broker.resolvePair(args.source as string, args.destination as string);
    const sel =
      f.exactId !== undefined
        ? { exactId: f.exactId, requireUnclaimed: false }
        : { after: f.after, before: f.before, limit: args.all ? MOVE_ALL_LIMIT : 1 };
    const moved = await broker.backend.move(src, dst, sel);
    const printer = new RecordPrinter(args, true);
    try {
      for (const m of moved) await printer.print(m);
    } catch (error) {
      if (!(error instanceof ClosedStdoutError)) throw error;
    }
    return moved.length > 0 ? EXIT.OK : EXIT.EMPTY;
  },
);
