import { parseMessageId } from "../../lib/time/timestamp.ts";
import { repeated } from "../argv.ts";
import { command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { log } from "../output.ts";

export const ack = command(
  {
    name: "ack",
    description: "Acknowledge leased messages: delete them for good (exit 2 when none of the ids is leased)",
    examples: ["ack jobs 1837025672140161024", "ack jobs 1837025672140161024 1837025672140161025"],
  },
  {
    queue: { type: "positional", description: "Queue name or @alias" },
    ids: { type: "positional", variadic: true, description: "Ids of leased messages (19 digits each)", valueHint: "ID" },
  },
  async (args, ctx) => {
    const ids = repeated(args.ids).map(parseMessageId);
    const broker = await ctx.broker();
    const done = await broker.leases.ack(args.queue as string, ids);
    const missed = ids.filter((id) => !done.includes(id));
    if (done.length > 0 && missed.length > 0) log.warn(`Not leased: ${missed.join(" ")}`);
    return done.length > 0 ? EXIT.OK : EXIT.EMPTY;
  },
);
