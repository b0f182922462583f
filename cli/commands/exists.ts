import { ARGS, command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { out } from "../output.ts";

export const exists = command(
  {
    name: "exists",
    description: "Exit 0 if the queue has any message (pending, claimed, leased or delayed), else 2",
    examples: ["exists jobs && echo busy"],
  },
  { queue: { type: "positional", description: "Queue name or @alias" }, json: ARGS.json },
  async (args, ctx) => {
    const broker = await ctx.broker();
    const queue = await broker.resolveQueue(args.queue as string);
    const found = await broker.exists(queue);
    if (args.json) await out(`{"queue": ${JSON.stringify(queue)}, "exists": ${found}}\n`);
    return found ? EXIT.OK : EXIT.EMPTY;
  },
);
