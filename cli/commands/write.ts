import { UsageError } from "../argv.ts";
import { command } from "../command.ts";
import { parseDuration, parseInstant } from "../duration.ts";
import { EXIT } from "../exit.ts";
import { jsonId, out } from "../output.ts";

export const write = command(
  {
    name: "write",
    description: "Write a message to a queue (argument, '-' or piped stdin)",
    examples: [
      'write jobs "resize photo.jpg"',
      "write jobs - < message.txt",
      'write jobs "resize photo.jpg" -t',
      'write jobs "send reminder" --delay 10m',
    ],
  },
  {
    queue: { type: "positional", description: "Queue name or @alias" },
    message: { type: "positional", required: false, description: "Message text, or '-' to read stdin" },
    timestamps: { type: "boolean", alias: "t", description: "Print the new message's id" },
    json: { type: "boolean", description: 'Print the new message\'s id as {"timestamp": ID}' },
    delay: { type: "string", description: "Keep it invisible for DUR (e.g. 30s, 10m), after the message", valueHint: "DUR" },
    at: { type: "string", description: "Keep it invisible until TIME (the --after grammar of read)", valueHint: "TIME" },
  },
  async (args, ctx) => {
    if (args.delay !== undefined && args.at !== undefined)
      throw new UsageError("argument --at: not allowed with argument --delay");
    const delayMs = typeof args.delay === "string" ? parseDuration(args.delay, "--delay") : undefined;
    const due = typeof args.at === "string" ? { atMs: parseInstant(args.at) } : delayMs !== undefined ? { delayMs } : undefined;
    const body = ctx.messageText(args.message as string | undefined);
    const broker = await ctx.broker();
    const queue = args.queue as string;
    const [id] = due === undefined ? await broker.write(queue, body) : await broker.leases.writeDelayed(queue, [body], due);
    if (args.json) await out(`{"timestamp": ${jsonId(id!)}}\n`);
    else if (args.timestamps) await out(`${id}\n`);
    return EXIT.OK;
  },
  "write",
);
