/**
 * The CLI's dispatch, in SimpleBroker 3.6.1's order (docs/compatibility.md#command-line): parse
 * strictly, reject conflicting global actions, print the version, resolve
 * the target, then run init / --cleanup / --vacuum / --status / the command.
 * Returns the exit status; never calls process.exit.
 * @module
 */
import { resolveConfigWithWarnings } from "../lib/target/config.ts";
import { isBrokerError } from "../lib/core/errors.ts";
import { VERSION } from "../lib/util/version.ts";
import {
  aliasCommand,
  canonicalArgs,
  parseCommandArgs,
  parseGlobals,
  UsageError,
  type CommandName,
  type StrictValues,
} from "./argv.ts";
import type { BrokerCommand } from "./command.ts";
import { COMMAND_LOADERS, loadAliasGroup, ROOT } from "./commands/index.ts";
import type { CliContext } from "./context.ts";
import { FULL_BUNDLE, firstBundleServes, handOver, needsFullBundle } from "./_edition.ts";
import { EXIT, type ExitCode } from "./exit.ts";
import { asciiJson, ClosedStdoutError, err, log, out, setJsonIds, setQuiet } from "./output.ts";

/** Run the CLI with these arguments (without the program name). */
export async function main(argv: string[]): Promise<ExitCode> {
  let json = false;
  let ctx: CliContext | undefined;
  try {
    const { globals, command, rest } = parseGlobals(argv);
    // A compiled binary's first bundle leaves `serve` out (cli/_edition.ts).
    if (FULL_BUNDLE && command === "serve") return await handOver();
    setQuiet(globals.quiet);
    json = globals.statusJson;
    // No arguments, `--help`, `help [COMMAND]`, `alias --help`: help on stdout, nothing else happens.
    if (command === undefined && (argv.length === 0 || globals.help)) return await help(rest);
    if (command === "alias" && (rest[0] === "-h" || rest[0] === "--help")) return await help(["alias"]);
    const chosen = command === undefined ? undefined : await choose(command, rest);
    if (chosen && (globals.help || chosen.values.help)) return await help(chosen.words);
    json ||= chosen?.values.json === true;
    if (globals.status && command !== undefined) throw new UsageError("--status cannot be used with commands", { cause: "json" });
    if (globals.compact && !globals.vacuum) throw new UsageError("--compact can only be used with --vacuum");
    if (globals.vacuum && command !== undefined) throw new UsageError("--vacuum cannot be used with commands");
    if (globals.version) {
      await out(`simplebroker ${VERSION}\n`);
      return EXIT.OK;
    }
    // Loaded before anything is opened: a compiled binary's first bundle hands the global actions over.
    const actions = globals.cleanup || globals.vacuum || globals.status ? await import("./globals.ts") : undefined;
    const { config, warnings } = resolveConfigWithWarnings();
    if (FULL_BUNDLE && !firstBundleServes(config.backend)) return await handOver();
    for (const w of warnings) err(`simplebroker: warning: ${w}\n`);
    setJsonIds(process.env.BROKER_JSON_IDS);
    // Loaded only now: --version and --help never pay for the database stack.
    const { CliContext } = await import("./context.ts");
    ctx = new CliContext(globals, command, config);
    ctx.target();
    if (command === "init") return await run(chosen!, ctx);
    if (actions && globals.cleanup) return await actions.cleanup(ctx);
    if (actions && globals.vacuum) return await actions.vacuum(ctx);
    if (actions && globals.status) return await actions.status(ctx);
    if (!chosen) return await help([]);
    return await run(chosen, ctx);
  } catch (error) {
    if (FULL_BUNDLE && needsFullBundle(error)) {
      // The database the target check opened is closed first: the complete bundle starts over.
      await ctx?.close().catch(() => {});
      ctx = undefined;
      return await handOver();
    }
    return report(error, json);
  } finally {
    try {
      await ctx?.close();
    } catch {
      // closing never changes the outcome
    }
  }
}

// --- internal ---

/** A command picked from the command line: its words (`read`, `alias add`), definition and strictly parsed values. */
interface Chosen {
  words: string[];
  cmd: BrokerCommand;
  values: StrictValues;
}

/** Load the command named on the line and parse its tokens strictly (the grammar of cli/argv.ts). */
async function choose(command: CommandName, rest: string[]): Promise<Chosen> {
  if (command === "alias") {
    const sub = aliasCommand(rest[0]);
    const cmd = await (await loadAliasGroup()).subCommands[sub]!();
    return { words: ["alias", sub], cmd, values: parseCommandArgs(cmd.args, rest.slice(1)) };
  }
  const cmd = await COMMAND_LOADERS[command]();
  return { words: [command], cmd, values: parseCommandArgs(cmd.args, rest, cmd.freeform) };
}

/**
 * Run the chosen command through citty: the root command resolves the words
 * to the (lazily loaded) command, which citty parses from tokens that mean
 * exactly the values checked above.
 */
async function run(chosen: Chosen, ctx: CliContext): Promise<ExitCode> {
  const { dispatch } = await import("./command.ts");
  return dispatch(ROOT, [...chosen.words, ...canonicalArgs(chosen.cmd.args, chosen.values)], ctx);
}

/** Print the help for a topic (`[]`, `["read"]`, `["alias", "add"]`) on stdout. */
async function help(topic: readonly string[]): Promise<ExitCode> {
  const { helpText } = await import("./help.ts");
  await out(await helpText(topic));
  return EXIT.OK;
}

/** Print an error as `simplebroker: error: …` (or a JSON line) and return its exit status. */
function report(error: unknown, json: boolean): ExitCode {
  if (error instanceof ClosedStdoutError) return EXIT.OK;
  if (error instanceof UsageError) {
    if (json && error.cause === "json") {
      err(`{"error": "INVALID_ARGUMENT", "message": ${asciiJson(error.message)}, "retryable": false}\n`);
    } else err(`simplebroker: error: ${error.message}\n`);
    return EXIT.ERROR;
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = isBrokerError(error) ? error.code : "ERROR";
  // retryable: the same command may succeed later (connection lost, lock or timeout), never for bad input.
  const retryable = isBrokerError(error) && error.retryable === true;
  if (json) err(`{"error": "${code}", "message": ${asciiJson(message)}, "retryable": ${retryable}}\n`);
  else err(`simplebroker: error: ${oneLine(message)}\n`);
  if (!isBrokerError(error) && process.env.BROKER_DEBUG) log.error(error);
  return EXIT.ERROR;
}

/** Errors stay one line: a line break inside the text (e.g. in a bad path) is shown escaped. */
function oneLine(text: string): string {
  return text.replace(/[\n\r]/g, (c) => (c === "\n" ? "\\n" : "\\r"));
}
