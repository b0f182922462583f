import { ARGS, command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { out } from "../output.ts";
import { statsJson, statsLine } from "./list.ts";

export const stats = command(
  {
    name: "stats",
    description: "Show pending, claimed and total counts of one queue",
    examples: ["stats jobs", "stats jobs --json"],
  },
  { queue: { type: "positional", description: "Queue name or @alias" }, json: ARGS.json },
  async (args, ctx) => {
    const broker = await ctx.broker();
    const s = await broker.queueStats(args.queue as string);
    await out(args.json ? statsJson(s) : statsLine(s));
    return EXIT.OK;
  },
);
