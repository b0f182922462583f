/**
 * How a command is declared and run. Each command is a citty command
 * definition (`defineCommand`: meta, typed args, `run`); {@link command}
 * builds one from a handler that receives citty's parsed args and the
 * {@link CliContext} and returns the exit status. {@link dispatch} runs the
 * root command through citty's `runCommand` with tokens the strict parser
 * (cli/argv.ts) has already checked.
 *
 * citty calls a sub-command's `run` without the data given to the root and
 * drops its return value, so the invocation being served (its context and
 * the exit status the handler returned) is held here while `runCommand` runs.
 * @module
 */
import { defineCommand, runCommand, type ArgsDef, type CommandDef, type CommandMeta, type ParsedArgs } from "citty";
import type { CliContext } from "./context.ts";
import { EXIT, type ExitCode } from "./exit.ts";

/** What help shows about a command. */
export interface BrokerMeta extends CommandMeta {
  name: string;
  description: string;
  /** Command lines shown under "Examples" (without the leading `broker `). */
  examples: readonly string[];
}

/**
 * A CLI command: a citty command definition with plain (not lazy) meta and
 * args. Erased to `CommandDef<any>` as citty's own sub-command maps are, so
 * commands with different args fit one map; {@link command} keeps `run` typed.
 */
// biome-ignore lint/suspicious/noExplicitAny: citty's SubCommandsDef holds CommandDef<any> for the same reason
export interface BrokerCommand extends CommandDef<any> {
  meta: BrokerMeta;
  args: ArgsDef;
  /** Message text may start with a dash (write, broadcast). */
  freeform?: "write" | "broadcast";
}

/** A command group (`alias`): a citty command whose sub-commands are loaded on demand. */
export interface BrokerGroup extends CommandDef {
  meta: BrokerMeta;
  subCommands: Record<string, () => Promise<BrokerCommand>>;
}

/** Declare a command: `run` gets citty's parsed args (typed by `args`) and the invocation's context. */
export function command<const A extends ArgsDef>(
  meta: BrokerMeta,
  args: A,
  run: (args: ParsedArgs<A>, ctx: CliContext) => Promise<ExitCode>,
  freeform?: BrokerCommand["freeform"],
): BrokerCommand {
  const def = defineCommand<A>({
    meta,
    args,
    async run({ args: parsed }) {
      const current = serving;
      if (!current) throw new Error(`command '${meta.name}' run outside dispatch()`);
      current.code = await run(parsed, current.ctx);
    },
  });
  return { ...def, meta, args, freeform };
}

/**
 * Run `root` through citty's `runCommand` with `rawArgs` (command words, then
 * the canonical tokens of cli/argv.ts) for this invocation; resolves to the
 * exit status the command's handler returned. Errors propagate.
 */
export async function dispatch(root: CommandDef, rawArgs: string[], ctx: CliContext): Promise<ExitCode> {
  const current = { ctx, code: EXIT.OK as ExitCode };
  serving = current;
  try {
    await runCommand(root, { rawArgs });
    return current.code;
  } finally {
    serving = undefined;
  }
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

// --- internal ---

/** The invocation `dispatch` is serving (one at a time: the CLI runs one command per process). */
let serving: { ctx: CliContext; code: ExitCode } | undefined;
