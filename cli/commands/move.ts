import { ArgumentError } from "../../lib/core/errors.ts";
import { UsageError } from "../argv.ts";
import { ARGS, command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { parseFilters, printWalk, RecordPrinter } from "../print.ts";
import { startProgress } from "../progress.ts";

/** `move --all` moves at most this many messages (as 3.6.1), this many per transaction. */
const MOVE_ALL_LIMIT = 1_000_000;
const MOVE_PAGE = 1000;

export const move = command(
  {
    name: "move",
    description: "Move messages from one queue to another",
    examples: ["move failed jobs", "move failed jobs --all"],
  },
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
    const selection =
      f.exactId !== undefined ? { exactId: f.exactId, requireUnclaimed: false } : { after: f.after, before: f.before };
    // --all moves a page per transaction and prints it; a closed stdout stops only the printing.
    const plan = {
      queue: src,
      destination: dst,
      kind: "move" as const,
      selection,
      once: !args.all,
      pageSize: args.all ? MOVE_PAGE : 1,
      max: MOVE_ALL_LIMIT,
    };
    const printer = new RecordPrinter(args, true);
    if (args.all) printer.progress = startProgress("move", ctx.globals.quiet);
    const end = await printWalk(broker, plan, printer, { signals: "walk", keepMoving: true });
    if (end.exit !== undefined) return end.exit;
    return end.delivered > 0 ? EXIT.OK : EXIT.EMPTY;
  },
);
