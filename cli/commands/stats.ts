import { ARGS, command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { withHeld } from "../leases.ts";
import { out } from "../output.ts";
import { statsJson, statsLine } from "./list.ts";

export const stats = command(
  {
    name: "stats",
    description: "Show pending, claimed and total counts of one queue (and leased, scheduled ones when any)",
    examples: ["stats jobs", "stats jobs --json"],
  },
  { queue: { type: "positional", description: "Queue name or @alias" }, json: ARGS.json },
  async (args, ctx) => {
    const broker = await ctx.broker();
    const queue = await broker.resolveQueue(args.queue as string);
    const [s] = await withHeld(broker, [await broker.queueStats(queue)], { queue });
    await out(args.json ? statsJson(s!) : statsLine(s!));
    return EXIT.OK;
  },
);
