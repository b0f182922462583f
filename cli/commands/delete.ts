import { ArgumentError, MessageIdError } from "../../lib/core/errors.ts";
import { isValidMessageIdFormat, parseMessageId } from "../../lib/time/timestamp.ts";
import { UsageError } from "../argv.ts";
import { ARGS, command } from "../command.ts";
import { EXIT } from "../exit.ts";

export const del = command(
  {
    name: "delete",
    description: "Delete a queue's messages, every message (--all), or one message (-m)",
    examples: ["delete jobs", "delete jobs -m 1837025672140161024", "delete --all"],
  },
  {
    queue: { type: "positional", required: false, description: "Queue name or @alias" },
    all: { type: "boolean", description: "Delete every message of every queue" },
    message: ARGS.message,
  },
  async (args, ctx) => {
    if (args.queue !== undefined && args.all) throw new UsageError("argument --all: not allowed with argument queue");
    if (args.queue === undefined && !args.all) throw new UsageError("one of the arguments queue --all is required");
    let id: bigint | undefined;
    if (typeof args.message === "string") {
      if (!isValidMessageIdFormat(args.message)) throw new MessageIdError("invalid message ID: expected exactly 19 digits");
      if (args.all) throw new ArgumentError("--message requires a queue name");
      try {
        id = parseMessageId(args.message);
      } catch {
        return EXIT.EMPTY; // in format but >= 2^63: no such message (3.6.1 exits 2)
      }
    }
    const broker = await ctx.broker();
    if (id !== undefined) return (await broker.deleteMessage(args.queue as string, id)) ? EXIT.OK : EXIT.EMPTY;
    await broker.delete(args.all ? undefined : (args.queue as string));
    return EXIT.OK;
  },
);
