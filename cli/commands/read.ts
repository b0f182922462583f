import { ArgumentError } from "../../lib/core/errors.ts";
import { ARGS, command, type BrokerCommand } from "../command.ts";
import { parseDuration } from "../duration.ts";
import { EXIT } from "../exit.ts";
import { peekIncludingHeld, readLeased } from "../leases.ts";
import { parseFilters, printWalk, RecordPrinter } from "../print.ts";
import { startProgress } from "../progress.ts";

const PEEK_PAGE = 1000;
const PEEK_ARGS = {
  "include-claimed": { type: "boolean", description: "Also show claimed, leased and delayed messages (inspection only)" },
} as const;
const READ_ARGS = {
  lease: {
    type: "string",
    description: "Take it under a lease of DUR (e.g. 30s) instead of for good; prints its id",
    valueHint: "DUR",
  },
} as const;

function readOrPeek(mode: "read" | "peek"): BrokerCommand {
  return command(
    {
      name: mode,
      description: mode === "read" ? "Read and remove messages from a queue" : "Show messages without removing them",
      examples: [
        `${mode} jobs`,
        `${mode} jobs --all --json`,
        `${mode} jobs --after 2024-06-01T00:00:00Z -t`,
        ...(mode === "read" ? ["read jobs --lease 30s"] : []),
      ],
    },
    { queue: { type: "positional", description: "Queue name or @alias" }, ...ARGS, ...(mode === "peek" ? PEEK_ARGS : READ_ARGS) },
    async (args, ctx) => {
      if (args.message !== undefined && (args.all || args.after !== undefined || args.before !== undefined)) {
        throw new ArgumentError("--message cannot be used with --all, --after, or --before");
      }
      const f = parseFilters(args);
      const leaseMs = typeof args.lease === "string" ? parseDuration(args.lease, "--lease") : undefined;
      const broker = await ctx.broker();
      const queue = await broker.resolveQueue(args.queue as string);
      if (leaseMs !== undefined) return readLeased(broker, queue, leaseMs, f, args);
      const filtered = f.after !== undefined || f.before !== undefined;
      const printer = new RecordPrinter(args, args.all === true || filtered);
      if (args.all && mode === "read") printer.progress = startProgress("read", ctx.globals.quiet);
      if (args["include-claimed"] === true) {
        return (await peekIncludingHeld(broker, queue, f, args.all === true, printer)) > 0 ? EXIT.OK : EXIT.EMPTY;
      }
      const kind = mode === "read" ? "claim" : "peek";
      const selection = f.exactId !== undefined ? { exactId: f.exactId } : { after: f.after, before: f.before };
      // read --all claims, commits and prints one message at a time (exactly-once); peek --all pages by id.
      const pageSize = kind === "peek" && args.all ? PEEK_PAGE : 1;
      // BROKER_READ_COMMIT_INTERVAL > 1: read --all claims that many per transaction, prints, then commits (at-least-once).
      const commitInterval = kind === "claim" ? ctx.config.readCommitInterval : undefined;
      const end = await printWalk(broker, { queue, kind, selection, once: !args.all, pageSize, commitInterval }, printer, {
        signals: kind === "claim" ? "walk" : undefined,
      });
      if (end.exit !== undefined) return end.exit;
      if (end.closed) return EXIT.OK; // a reader that went away is not an error
      return printer.count > 0 ? EXIT.OK : EXIT.EMPTY;
    },
  );
}

export const read = readOrPeek("read");
export const peek = readOrPeek("peek");
