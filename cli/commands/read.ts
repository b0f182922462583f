import { ArgumentError } from "../../lib/core/errors.ts";
import type { Message } from "../../lib/core/types.ts";
import { ARGS, command, type BrokerCommand } from "../command.ts";
import { EXIT } from "../exit.ts";
import { ClosedStdoutError } from "../output.ts";
import { parseFilters, RecordPrinter } from "../print.ts";

const PEEK_PAGE = 1000;

function readOrPeek(mode: "read" | "peek"): BrokerCommand {
  return command(
    {
      name: mode,
      description: mode === "read" ? "Read and remove messages from a queue" : "Show messages without removing them",
    },
    { queue: { type: "positional", description: "Queue name or @alias" }, ...ARGS },
    async (args, ctx) => {
      if (args.message !== undefined && (args.all || args.after !== undefined || args.before !== undefined)) {
        throw new ArgumentError("--message cannot be used with --all, --after, or --before");
      }
      const f = parseFilters(args);
      const broker = await ctx.broker();
      const queue = await broker.resolveQueue(args.queue as string);
      const backend = broker.backend;
      const filtered = f.after !== undefined || f.before !== undefined;
      const printer = new RecordPrinter(args, args.all === true || filtered);
      const sel = { after: f.after, before: f.before };
      /** Print a claimed message; if nobody can receive it, put it back where it was (docs/compatibility.md#q8-closed-stdout). */
      const deliver = async (m: Message) => {
        try {
          await printer.print(m);
        } catch (error) {
          if (mode === "read" && error instanceof ClosedStdoutError) await backend.move(queue, queue, { exactId: m.ts, requireUnclaimed: false });
          throw error;
        }
      };
      try {
        if (f.exactId !== undefined) {
          const rows = mode === "read" ? await backend.claim(queue, { exactId: f.exactId }) : await backend.peek(queue, { exactId: f.exactId });
          for (const m of rows) await deliver(m);
        } else if (!args.all) {
          const rows = mode === "read" ? await backend.claim(queue, sel) : await backend.peek(queue, sel);
          for (const m of rows) await deliver(m);
        } else if (mode === "peek") {
          for (let offset = 0; ; offset += PEEK_PAGE) {
            const page = await backend.peek(queue, { ...sel, limit: PEEK_PAGE, offset });
            for (const m of page) await printer.print(m);
            if (page.length < PEEK_PAGE) break;
          }
        } else {
          // Each message is claimed and committed before it is printed (exactly-once).
          for (;;) {
            const [m] = await backend.claim(queue, sel);
            if (!m) break;
            await deliver(m);
          }
        }
      } catch (error) {
        if (!(error instanceof ClosedStdoutError)) throw error;
        return EXIT.OK; // a reader that went away is not an error (see above)
      }
      return printer.count > 0 ? EXIT.OK : EXIT.EMPTY;
    },
  );
}

export const read = readOrPeek("read");
export const peek = readOrPeek("peek");
