/**
 * The command tree: the root command maps each name to a loader that imports
 * that command's module on demand, so a call pays only for the command it
 * runs (help loads them all). `alias` is a group with its own sub-commands.
 * @module
 */
import type { CommandDef } from "citty";
import type { CommandName } from "../argv.ts";
import type { BrokerCommand, BrokerGroup } from "../command.ts";

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
  rename: () => import("./rename.ts").then((m) => m.rename),
  watch: () => import("./watch.ts").then((m) => m.watch),
  init: () => import("./init.ts").then((m) => m.init),
  serve: () => import("./serve.ts").then((m) => m.serve),
  dump: () => import("./dump.ts").then((m) => m.dump),
  load: () => import("./load.ts").then((m) => m.load),
  ack: () => import("./ack.ts").then((m) => m.ack),
  release: () => import("./release.ts").then((m) => m.release),
};

/** The `alias` group (add, remove, list). */
export const loadAliasGroup = (): Promise<BrokerGroup> => import("./alias.ts").then((m) => m.alias);

/**
 * The root command that citty's `runCommand` dispatches from. A plain object
 * (`defineCommand` is the identity), so loading this map never loads citty.
 */
export const ROOT = {
  meta: { name: "broker", description: "A durable message queue in one SQLite file" },
  subCommands: { ...COMMAND_LOADERS, alias: loadAliasGroup },
} satisfies CommandDef;
