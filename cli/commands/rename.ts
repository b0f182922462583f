import { command } from "../command.ts";
import { EXIT } from "../exit.ts";
import { out } from "../output.ts";

export const rename = command(
  {
    name: "rename",
    description: "Rename a queue, pending and claimed messages alike, in one transaction",
    examples: ["rename jobs jobs-old", "rename jobs jobs-old --json", "rename jobs jobs-old --no-retarget-aliases"],
  },
  {
    old: { type: "positional", description: "Queue name or @alias to rename" },
    new: { type: "positional", description: "New queue name (must not exist yet)" },
    json: { type: "boolean", description: "Print what was renamed as one JSON object" },
    "no-retarget-aliases": { type: "boolean", description: "Leave aliases pointing at the old name" },
  },
  async (args, ctx) => {
    const broker = await ctx.broker();
    const source = await broker.resolveQueue(args.old as string);
    const newName = args.new as string;
    // citty reads the canonical `--no-retarget-aliases` as `retarget-aliases: false`.
    const keep = args["no-retarget-aliases"] === true || (args as Record<string, unknown>)["retarget-aliases"] === false;
    const r = await broker.rename(source, newName, { retargetAliases: !keep });
    if (r.messages === 0) return EXIT.EMPTY;
    if (args.json) {
      await out(
        `{"old_queue": ${JSON.stringify(source)}, "new_queue": ${JSON.stringify(newName)}, "messages_renamed": ${r.messages}, "aliases_retargeted": ${r.aliases}, "renamed": true}\n`,
      );
    }
    return EXIT.OK;
  },
);
