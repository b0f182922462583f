import { command } from "../command.ts";
import { EXIT } from "../exit.ts";

export const write = command(
  { name: "write", description: "Write a message to a queue (argument, '-' or piped stdin)", examples: ["write jobs \"resize photo.jpg\"", "write jobs - < message.txt"] },
  {
    queue: { type: "positional", description: "Queue name or @alias" },
    message: { type: "positional", required: false, description: "Message text, or '-' to read stdin" },
  },
  async (args, ctx) => {
    const body = ctx.messageText(args.message as string | undefined);
    const broker = await ctx.broker();
    await broker.write(args.queue as string, body);
    return EXIT.OK;
  },
  "write",
);
