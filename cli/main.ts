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
import { COMMANDS, parseCommandArgs, parseGlobals, UsageError, type ParsedValues } from "./argv.ts";
import type { BrokerCommand } from "./command.ts";
import { COMMAND_LOADERS, loadAliasCommands } from "./commands/index.ts";
import type { CliContext } from "./context.ts";
import { EXIT, type ExitCode } from "./exit.ts";
import { asciiJson, ClosedStdoutError, err, log, out, setQuiet } from "./output.ts";

/** Run the CLI with these arguments (without the program name). */
export async function main(argv: string[]): Promise<ExitCode> {
  let json = false;
  let ctx: CliContext | undefined;
  try {
    const { globals, command, rest } = parseGlobals(argv);
    setQuiet(globals.quiet);
    json = globals.statusJson;
    if (argv.length === 0 || (globals.help && command === undefined)) {
      await out(await rootUsage());
      return EXIT.OK;
    }
    let cmd: BrokerCommand | undefined;
    let args: ParsedValues = {};
    if (command === "alias") {
      const sub = rest[0];
      if (sub === undefined) throw new UsageError("alias subcommand is required");
      const subs = await loadAliasCommands();
      if (sub === "-h" || sub === "--help") {
        await out(`usage: simplebroker alias {add,remove,list} ...\n\n${Object.values(subs).map((c) => `  ${(c.def.meta as { name: string }).name}\t${(c.def.meta as { description: string }).description}`).join("\n")}\n`);
        return EXIT.OK;
      }
      cmd = subs[sub];
      if (!cmd) {
        throw new UsageError(`argument alias_command: invalid choice: '${sub}' (choose from 'add', 'remove', 'list')`);
      }
      args = parseCommandArgs(cmd.def.args as never, rest.slice(1));
    } else if (command !== undefined) {
      cmd = await COMMAND_LOADERS[command]();
      args = parseCommandArgs(cmd.def.args as never, rest, cmd.freeform);
    }
    if (cmd && args.help) {
      const { renderUsage } = await import("citty");
      const parent = { meta: { name: command === "alias" ? "simplebroker alias" : "simplebroker" } };
      const usage = await renderUsage(cmd.def, parent);
      // Colour only for a terminal: help piped into a file or a pager stays plain text.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the colour sequences being removed
      await out(`${process.stdout.isTTY && !process.env.NO_COLOR ? usage : usage.replace(/\x1b\[[0-9;]*m/g, "")}\n`);
      return EXIT.OK;
    }
    json ||= args.json === true;
    if (globals.status && command !== undefined) throw new UsageError("--status cannot be used with commands", { cause: "json" });
    if (globals.compact && !globals.vacuum) throw new UsageError("--compact can only be used with --vacuum");
    if (globals.vacuum && command !== undefined) throw new UsageError("--vacuum cannot be used with commands");
    if (globals.version) {
      await out(`simplebroker ${VERSION}\n`);
      return EXIT.OK;
    }
    const { config, warnings } = resolveConfigWithWarnings();
    for (const w of warnings) err(`simplebroker: warning: ${w}\n`);
    // Loaded only now: --version and --help never pay for the database stack.
    const { CliContext } = await import("./context.ts");
    ctx = new CliContext(globals, command, config);
    ctx.target();
    if (command === "init") return await cmd!.run(args, ctx);
    if (globals.cleanup) return await (await import("./globals.ts")).cleanup(ctx);
    if (globals.vacuum) return await (await import("./globals.ts")).vacuum(ctx);
    if (globals.status) return await (await import("./globals.ts")).status(ctx);
    if (!cmd) {
      await out(await rootUsage());
      return EXIT.OK;
    }
    return await cmd.run(args, ctx);
  } catch (error) {
    return report(error, json);
  } finally {
    try {
      await ctx?.close();
    } catch {
      // closing never changes the outcome
    }
  }
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
  if (json) err(`{"error": "${code}", "message": ${asciiJson(message)}, "retryable": false}\n`);
  else err(`simplebroker: error: ${oneLine(message)}\n`);
  if (!isBrokerError(error) && process.env.BROKER_DEBUG) log.error(error);
  return EXIT.ERROR;
}

/** Errors stay one line: a line break inside the text (e.g. in a bad path) is shown escaped. */
function oneLine(text: string): string {
  return text.replace(/[\n\r]/g, (c) => (c === "\n" ? "\\n" : "\\r"));
}

async function rootUsage(): Promise<string> {
  const lines = [
    `simplebroker ${VERSION} - a durable message queue in one SQLite file`,
    "",
    "usage: broker [-d DIR] [-f FILE] [-q] [--version] [--cleanup] [--vacuum [--compact]] [--status [--json]] <command> ...",
    "",
    "Commands:",
  ];
  for (const name of COMMANDS) {
    if (name === "alias") {
      lines.push(`  ${"alias".padEnd(10)} Manage queue aliases (add, remove, list)`);
      continue;
    }
    const c = await COMMAND_LOADERS[name]();
    lines.push(`  ${name.padEnd(10)} ${(c.def.meta as { description: string }).description}`);
  }
  lines.push(
    "",
    "Global options (before the command):",
    "  -d, --dir DIR     Directory of the database (default: current directory)",
    "  -f, --file NAME   Database file name (default: .broker.db)",
    "  -q, --quiet       Silence status messages",
    "  --version         Print the version",
    "  --cleanup         Delete the database file",
    "  --vacuum          Remove claimed messages (--compact also reclaims space)",
    "  --status          Show totals (--json for one JSON line)",
    "",
    "Exit codes: 0 ok, 1 error, 2 empty queue / nothing matched.",
    "Run 'broker <command> --help' for a command's options.",
    "",
  );
  return lines.join("\n");
}
