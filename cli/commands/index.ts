/**
 * The command map: each name loads its module on demand, so a call pays only
 * for the command it runs.
 * @module
 */
import type { CommandName } from "../argv.ts";
import type { BrokerCommand } from "../command.ts";

export const COMMAND_LOADERS: Record<Exclude<CommandName, "alias">, () => Promise<BrokerCommand>> = {
  write: () => import("./write.ts").then((m) => m.write),
  read: () => import("./read.ts").then((m) => m.read),
  peek: () => import("./read.ts").then((m) => m.peek),
  move: () => import("./move.ts").then((m) => m.move),
  delete: () => import("./delete.ts").then((m) => m.del),
  list: () => import("./list.ts").then((m) => m.list),
  exists: () => import("./exists.ts").then((m) => m.exists),
  stats: () => import("./stats.ts").then((m) => m.stats),
  broadcast: () => import("./broadcast.ts").then((m) => m.broadcast),
  watch: () => import("./watch.ts").then((m) => m.watch),
  init: () => import("./init.ts").then((m) => m.init),
  serve: () => import("./serve.ts").then((m) => m.serve),
};

/** The `alias` group's sub-commands. */
export const loadAliasCommands = (): Promise<Record<string, BrokerCommand>> =>
  import("./alias.ts").then((m) => m.ALIAS_COMMANDS);
