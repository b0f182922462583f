import { command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { jsonId, out } from "../output.ts";

export const write = command(
  {
    name: "write",
    description: "Write a message to a queue (argument, '-' or piped stdin)",
    examples: ['write jobs "resize photo.jpg"', "write jobs - < message.txt", 'write jobs "resize photo.jpg" -t'],
  },
  {
    queue: { type: "positional", description: "Queue name or @alias" },
    message: { type: "positional", required: false, description: "Message text, or '-' to read stdin" },
    timestamps: { type: "boolean", alias: "t", description: "Print the new message's id" },
    json: { type: "boolean", description: 'Print the new message\'s id as {"timestamp": ID}' },
  },
  async (args, ctx) => {
    const body = ctx.messageText(args.message as string | undefined);
    const broker = await ctx.broker();
    const [id] = await broker.write(args.queue as string, body);
    if (args.json) await out(`{"timestamp": ${jsonId(id!)}}\n`);
    else if (args.timestamps) await out(`${id}\n`);
    return EXIT.OK;
  },
  "write",
);
