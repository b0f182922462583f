import { parseMessageId } from "../../lib/time/timestamp.ts";
import { repeated } from "../argv.ts";
import { command } from "../command.ts";
import { parseDuration } from "../duration.ts";
import { EXIT } from "../exit.ts";
import { log } from "../output.ts";

export const release = command(
  {
    name: "release",
    description: "Give leased messages back to their queue, now or after a delay (exit 2 when none of the ids is leased)",
    examples: ["release jobs 1837025672140161024", "release jobs 1837025672140161024 --delay 30s"],
  },
  {
    queue: { type: "positional", description: "Queue name or @alias" },
    ids: { type: "positional", variadic: true, description: "Ids of leased messages (19 digits each)", valueHint: "ID" },
    delay: {
      type: "string",
      description: "Keep them invisible for DUR (e.g. 30s) before they are pending again",
      valueHint: "DUR",
    },
  },
  async (args, ctx) => {
    const ids = repeated(args.ids).map(parseMessageId);
    const delayMs = typeof args.delay === "string" ? parseDuration(args.delay, "--delay") : undefined;
    const broker = await ctx.broker();
    const done = await broker.leases.release(args.queue as string, ids, { delayMs });
    const missed = ids.filter((id) => !done.includes(id));
    if (done.length > 0 && missed.length > 0) log.warn(`Not leased: ${missed.join(" ")}`);
    return done.length > 0 ? EXIT.OK : EXIT.EMPTY;
  },
);
