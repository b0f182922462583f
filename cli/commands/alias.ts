import { command, type BrokerGroup } from "../command.ts";
import { EXIT } from "../exit.ts";
import { err, log, out } from "../output.ts";

const add = command(
  {
    name: "add",
    description: "Add an alias: @alias then stands for target",
    examples: ["alias add jobs jobs-v2", 'write @jobs "resize photo.jpg"'],
  },
  {
    alias: { type: "positional", description: "Alias name (without @)" },
    target: { type: "positional", description: "Target queue name" },
    quiet: { type: "boolean", alias: "q", description: "Do not warn when a queue with the alias name exists" },
  },
  async (args, ctx) => {
    const broker = await ctx.broker();
    const warning = await broker.addAlias(args.alias as string, args.target as string);
    // -q after `add` and the global -q both silence the warning (docs/compatibility.md#q9-alias-add-quiet).
    if (warning && !args.quiet && !ctx.globals.quiet) err(`simplebroker: warning: ${warning}\n`);
    return EXIT.OK;
  },
);

const remove = command(
  { name: "remove", description: "Remove an alias", examples: ["alias remove jobs"] },
  { alias: { type: "positional", description: "Alias name (without @)" } },
  async (args, ctx) => {
    const broker = await ctx.broker();
    if (await broker.removeAlias(args.alias as string)) return EXIT.OK;
    log.error(`simplebroker: alias '${args.alias}' does not exist`);
    return EXIT.ERROR;
  },
);

const listAliases = command(
  { name: "list", description: "List aliases as 'alias -> target'", examples: ["alias list", "alias list --target jobs-v2"] },
  { target: { type: "string", description: "Only aliases pointing at this queue" } },
  async (args, ctx) => {
    const broker = await ctx.broker();
    let rows = await broker.listAliases();
    if (typeof args.target === "string") rows = rows.filter(([, t]) => t === args.target);
    if (rows.length) await out(rows.map(([a, t]) => `${a} -> ${t}\n`).join(""));
    return rows.length === 0 && typeof args.target === "string" ? EXIT.EMPTY : EXIT.OK;
  },
);

/** The `alias` group: its sub-commands by name. */
export const alias: BrokerGroup = {
  meta: {
    name: "alias",
    description: "Manage queue aliases: @alias stands for a queue",
    examples: ["alias add jobs jobs-v2", "alias list"],
  },
  subCommands: { add: async () => add, remove: async () => remove, list: async () => listAliases },
};
