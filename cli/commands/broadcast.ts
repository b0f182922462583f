import { repeated, UsageError } from "../argv.ts";
import { command } from "../command.ts";
import { parseDuration } from "../duration.ts";
import { EXIT } from "../exit.ts";

export const broadcast = command(
  {
    name: "broadcast",
    description: "Write a message to every existing queue (optionally matching a pattern, or only the named queues)",
    examples: ["broadcast shutdown", "broadcast -p 'jobs-*' pause", "broadcast --queue jobs --queue mail pause"],
  },
  {
    pattern: { type: "string", alias: "p", description: "Only queues matching this fnmatch pattern" },
    queue: { type: "string", description: "Only this queue, when it exists (repeatable; not with --pattern)", valueHint: "Q" },
    delay: { type: "string", description: "Keep it invisible for DUR (e.g. 30s, 10m)", valueHint: "DUR" },
    message: { type: "positional", description: "Message text, or '-' to read stdin" },
  },
  async (args, ctx) => {
    const queues = repeated(args.queue);
    if (queues.length && args.pattern !== undefined)
      throw new UsageError("argument --queue: not allowed with argument -p/--pattern");
    const delayMs = typeof args.delay === "string" ? parseDuration(args.delay, "--delay") : undefined;
    const body = ctx.messageText(args.message as string);
    const broker = await ctx.broker();
    const targets = queues.length ? { queues } : (args.pattern as string | undefined);
    const n =
      delayMs === undefined
        ? await broker.broadcast(body, targets)
        : await broker.leases.broadcastDelayed(body, targets, { delayMs });
    return n > 0 ? EXIT.OK : EXIT.EMPTY;
  },
  "broadcast",
);
