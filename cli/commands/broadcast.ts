import { command } from "../command.ts";
import { EXIT } from "../exit.ts";

export const broadcast = command(
  { name: "broadcast", description: "Write a message to every existing queue (optionally matching a pattern)", examples: ["broadcast shutdown", "broadcast -p 'jobs-*' pause"] },
  {
    pattern: { type: "string", alias: "p", description: "Only queues matching this fnmatch pattern" },
    message: { type: "positional", description: "Message text, or '-' to read stdin" },
  },
  async (args, ctx) => {
    const body = ctx.messageText(args.message as string);
    const broker = await ctx.broker();
    const n = await broker.broadcast(body, args.pattern as string | undefined);
    return n > 0 ? EXIT.OK : EXIT.EMPTY;
  },
  "broadcast",
);
