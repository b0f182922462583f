/**
 * The one help renderer: `broker --help`, `broker help [COMMAND]`,
 * `broker COMMAND --help`, `broker alias --help` and `broker alias add --help`
 * all print the same layout, built from the commands' citty definitions
 * (meta, args) and their examples. Plain text, so help piped into a file or a
 * pager reads the same as on a terminal.
 * @module
 */
import { VERSION } from "../lib/util/version.ts";
import { aliasCommand, COMMANDS, EXTENSION_COMMANDS, invalidChoice, UsageError } from "./argv.ts";
import type { BrokerCommand, BrokerMeta } from "./command.ts";
import { COMMAND_LOADERS, loadAliasGroup } from "./commands/index.ts";

/** The help text for a topic: `[]` (everything), `["read"]`, `["alias"]` or `["alias", "add"]`. */
export async function helpText(topic: readonly string[]): Promise<string> {
  const [word, sub, ...extra] = topic;
  if (word === undefined || word === "help") return rootHelp();
  const known = [...COMMANDS, ...EXTENSION_COMMANDS, "help"];
  if (!known.includes(word)) throw invalidChoice("command", word, COMMANDS, known);
  if (word !== "alias") {
    if (sub !== undefined) throw new UsageError(`unrecognized arguments: ${topic.slice(1).join(" ")}`);
    return commandHelp(await COMMAND_LOADERS[word as keyof typeof COMMAND_LOADERS](), word);
  }
  const group = await loadAliasGroup();
  if (sub === undefined) return groupHelp(group.meta, "alias", await loadAll(group.subCommands));
  const load = group.subCommands[aliasCommand(sub)]!;
  if (extra.length) throw new UsageError(`unrecognized arguments: ${extra.join(" ")}`);
  return commandHelp(await load(), `alias ${sub}`);
}

// --- internal ---

/** Help for one command (`path` is how it is typed: `read`, `alias add`). */
function commandHelp(cmd: BrokerCommand, path: string): string {
  const options: [string, string][] = [];
  const operands: [string, string][] = [];
  const usage: string[] = [];
  for (const [name, def] of Object.entries(cmd.args)) {
    if (def.type === "positional") {
      const optional = def.required === false;
      operands.push([name, `${def.description ?? ""}${optional ? " (optional)" : ""}`]);
      usage.push(optional ? `[${name}]` : `<${name}>`);
      continue;
    }
    const aliases = ([] as string[]).concat((def as { alias?: string | string[] }).alias ?? []);
    const flags = [...aliases.map((a) => (a.length === 1 ? `-${a}` : `--${a}`)), `--${name}`].join(", ");
    const value = def.type === "boolean" ? "" : ` ${def.valueHint ?? name.toUpperCase()}`;
    options.push([`${flags}${value}`, def.description ?? ""]);
  }
  options.push(["-h, --help", "Show this help"]);
  const sections: Section[] = [];
  if (operands.length) sections.push(["Arguments", operands]);
  sections.push(["Options", options]);
  const line = `broker [global options] ${path}${options.length > 1 ? " [options]" : ""}${usage.length ? ` ${usage.join(" ")}` : ""}`;
  return render(`broker ${path}`, cmd.meta, line, sections, [
    `Global options go before '${path.split(" ")[0]}'; see 'broker help'.`,
  ]);
}

type Section = [title: string, rows: [string, string][]];

const GLOBAL_OPTIONS: [string, string][] = [
  ["-d, --dir DIR", "Directory of the database (default: current directory)"],
  ["-f, --file NAME", "Database file name (default: .broker.db)"],
  ["-q, --quiet", "Silence status messages"],
  ["--version", "Print the version"],
  ["--cleanup", "Delete the database file"],
  ["--vacuum", "Remove claimed messages (--compact also reclaims space)"],
  ["--status", "Show totals (--json for one JSON line)"],
  ["-h, --help", "Show this help"],
];

async function rootHelp(): Promise<string> {
  const rows: [string, string][] = [];
  for (const name of [...COMMANDS, ...EXTENSION_COMMANDS]) {
    const meta = name === "alias" ? (await loadAliasGroup()).meta : (await COMMAND_LOADERS[name]()).meta;
    rows.push([name, meta.description]);
  }
  rows.push(["help", "Show help for a command: broker help COMMAND"]);
  const meta: BrokerMeta = {
    name: "broker",
    description: `a durable message queue in one SQLite file (simplebroker ${VERSION})`,
    examples: ['write jobs "resize photo.jpg"', "read jobs", "-d /var/lib/queues list --stats"],
  };
  return render(
    "broker",
    meta,
    "broker [global options] <command> [options] [arguments]",
    [
      ["Commands", rows],
      ["Global options (before the command)", GLOBAL_OPTIONS],
    ],
    ["Exit codes: 0 ok, 1 error, 2 empty queue / nothing matched.", "Run 'broker help <command>' for a command's options."],
  );
}

function groupHelp(meta: BrokerMeta, path: string, subs: BrokerCommand[]): string {
  return render(
    `broker ${path}`,
    meta,
    `broker [global options] ${path} <command> [options] [arguments]`,
    [
      ["Commands", subs.map((c) => [c.meta.name, c.meta.description])],
      ["Options", [["-h, --help", "Show this help"]]],
    ],
    [`Run 'broker help ${path} <command>' for a command's options.`],
  );
}

async function loadAll(loaders: Record<string, () => Promise<BrokerCommand>>): Promise<BrokerCommand[]> {
  const all: BrokerCommand[] = [];
  for (const load of Object.values(loaders)) all.push(await load());
  return all;
}

/** The shared layout: title line, usage, aligned sections, examples, closing notes. */
function render(title: string, meta: BrokerMeta, usage: string, sections: Section[], notes: string[]): string {
  const width = Math.max(...sections.flatMap(([, rows]) => rows.map(([left]) => left.length))) + 2;
  const lines = [`${title} - ${meta.description}`, "", `Usage: ${usage}`];
  for (const [heading, rows] of sections) {
    lines.push("", `${heading}:`);
    for (const [left, right] of rows) lines.push(`  ${left.padEnd(width)}${right}`.trimEnd());
  }
  lines.push("", "Examples:", ...meta.examples.map((e) => `  broker ${e}`), "", ...notes, "");
  return lines.join("\n");
}
