/**
 * How a command is declared: a citty command definition (meta, args, used
 * for help and for the strict parser) whose `run` receives the parsed values
 * and the {@link CliContext} and returns the exit status.
 * @module
 */
import type { ArgsDef, CommandDef } from "citty";
import type { ParsedValues } from "./argv.ts";
import type { CliContext } from "./context.ts";
import type { ExitCode } from "./exit.ts";

/** A CLI command: citty's definition plus our typed handler. */
export interface BrokerCommand {
  def: CommandDef<ArgsDef>;
  /** Message text may start with a dash (write, broadcast). */
  freeform?: "write" | "broadcast";
  /** The command accepts `--json`, so its errors are printed as JSON lines when set. */
  run(args: ParsedValues, ctx: CliContext): Promise<ExitCode>;
}

/** Declare a command. */
export function command(
  meta: { name: string; description: string },
  args: ArgsDef,
  run: BrokerCommand["run"],
  freeform?: BrokerCommand["freeform"],
): BrokerCommand {
  // citty's defineCommand is the identity; building the object here keeps citty (and its
  // node:util import) out of start-up: it is loaded only to render --help.
  const def: CommandDef<ArgsDef> = { meta, args };
  return { def, run, freeform };
}

/** Arg fragments shared by several commands. */
export const ARGS = {
  json: { type: "boolean", description: "Output one JSON object per line" },
  timestamps: { type: "boolean", alias: "t", description: "Prefix each message with its id and a tab" },
  all: { type: "boolean", description: "Act on every matching message" },
  message: { type: "string", alias: "m", description: "Select exactly this 19-digit message id", valueHint: "ID" },
  after: { type: "string", description: "Only messages with an id/time strictly after this", valueHint: "TS" },
  before: { type: "string", description: "Only messages with an id/time strictly before this", valueHint: "TS" },
} as const satisfies ArgsDef;
