/**
 * The strict argument grammar of SimpleBroker 3.6.1 (docs/compatibility.md#command-line): global
 * options only before the command, exact error texts, unique prefixes of a
 * command's long options, `--opt=value`, `-mVALUE`, `--`, and message text
 * that starts with a dash for `write` and `broadcast`. citty's `ArgsDef`
 * describes each command's options; this module parses them strictly.
 * @module
 */
import type { ArgsDef } from "citty";
import { suggestCommand } from "./suggest.ts";

/** The command words, in argparse's order (used in the invalid-choice message). */
export const COMMANDS = [
  "write",
  "read",
  "peek",
  "list",
  "exists",
  "stats",
  "delete",
  "move",
  "broadcast",
  "alias",
  "watch",
  "init",
] as const;
/** Commands added after 3.6.1: recognised, but not listed in 3.6.1's invalid-choice message. */
export const EXTENSION_COMMANDS = ["serve", "dump", "load", "rename", "ack", "release"] as const;
export type CommandName = (typeof COMMANDS)[number] | (typeof EXTENSION_COMMANDS)[number];

/** Options that may appear before the command. */
export interface GlobalOptions {
  dir?: string;
  file?: string;
  quiet: boolean;
  version: boolean;
  cleanup: boolean;
  vacuum: boolean;
  compact: boolean;
  status: boolean;
  /** `--status` with `--json` anywhere on the line. */
  statusJson: boolean;
  help: boolean;
}

/** A usage error: printed as `simplebroker: error: <message>`, exit 1. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Result of the global pass: the globals, the command word and its own tokens. */
export interface GlobalParse {
  globals: GlobalOptions;
  command?: CommandName;
  /** The command's tokens; after the word `help` (which sets `globals.help`), the topic: `[]`, `["read"]`, `["alias", "add"]`. */
  rest: string[];
}

/** The `alias` group's sub-commands, in argparse's order. */
export const ALIAS_COMMANDS = ["add", "remove", "list"] as const;
export type AliasCommandName = (typeof ALIAS_COMMANDS)[number];

const VALUE_GLOBALS: Record<string, "dir" | "file"> = { "-d": "dir", "--dir": "dir", "-f": "file", "--file": "file" };
const FLAG_GLOBALS: Record<string, keyof GlobalOptions> = {
  "-q": "quiet",
  "--quiet": "quiet",
  "--version": "version",
  "--cleanup": "cleanup",
  "--vacuum": "vacuum",
  "--compact": "compact",
  "--status": "status",
  "-h": "help",
  "--help": "help",
};

/** Split `argv` into global options, the command word and the command's tokens. */
export function parseGlobals(argv: string[]): GlobalParse {
  const globals: GlobalOptions = {
    quiet: false,
    version: false,
    cleanup: false,
    vacuum: false,
    compact: false,
    status: false,
    statusJson: false,
    help: false,
  };
  let tokens = argv;
  if (argv.includes("--status")) {
    globals.statusJson = argv.includes("--json");
    tokens = argv.filter((t) => t !== "--json");
  }
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    const valueKey = VALUE_GLOBALS[tok];
    if (valueKey) {
      const value = tokens[i + 1];
      if (value === undefined || value.startsWith("-")) throw new UsageError(`option ${tok} requires an argument`);
      globals[valueKey] = value;
      i++;
      continue;
    }
    const eq = tok.indexOf("=");
    if (tok.startsWith("--") && eq > 0) {
      const name = tok.slice(0, eq);
      const key = VALUE_GLOBALS[name];
      if (key) {
        const value = tok.slice(eq + 1);
        if (value === "") throw new UsageError(`option ${name} requires an argument`);
        globals[key] = value;
        continue;
      }
      if (FLAG_GLOBALS[name]) throw new UsageError(`argument ${name}: ignored explicit argument '${tok.slice(eq + 1)}'`);
    }
    if ((tok.startsWith("-d") || tok.startsWith("-f")) && tok.length > 2 && !tok.startsWith("--")) {
      globals[tok[1] === "d" ? "dir" : "file"] = tok.slice(2);
      continue;
    }
    const flag = FLAG_GLOBALS[tok];
    if (flag) {
      (globals as unknown as Record<string, boolean>)[flag] = true;
      continue;
    }
    if ((COMMANDS as readonly string[]).includes(tok) || (EXTENSION_COMMANDS as readonly string[]).includes(tok)) {
      return { globals, command: tok as CommandName, rest: tokens.slice(i + 1) };
    }
    if (tok === "help") {
      globals.help = true;
      return { globals, rest: tokens.slice(i + 1) };
    }
    if (tok.startsWith("-") && tok !== "-") throw new UsageError(`unrecognized arguments: ${tokens.slice(i).join(" ")}`);
    throw invalidChoice("command", tok, COMMANDS, [...COMMANDS, ...EXTENSION_COMMANDS, "help"]);
  }
  return { globals, rest: [] };
}

/** The `alias` sub-command named by `word`; a missing or unknown word is a usage error. */
export function aliasCommand(word: string | undefined): AliasCommandName {
  if (word === undefined) throw new UsageError("alias subcommand is required");
  if ((ALIAS_COMMANDS as readonly string[]).includes(word)) return word as AliasCommandName;
  throw invalidChoice("alias_command", word, ALIAS_COMMANDS, ALIAS_COMMANDS);
}

/**
 * argparse's invalid-choice error, plus `; did you mean 'read'?` when one of
 * `known` is a likely typo of `word` (see cli/suggest.ts).
 */
export function invalidChoice(what: string, word: string, listed: readonly string[], known: readonly string[]): UsageError {
  const hint = suggestCommand(word, known);
  return new UsageError(
    `argument ${what}: invalid choice: '${word}' (choose from ${listed.map((c) => `'${c}'`).join(", ")})${hint ? `; did you mean '${hint}'?` : ""}`,
  );
}

/** Parsed values of a command's arguments, keyed by the names in its `ArgsDef` (what {@link parseCommandArgs} returns). */
export type StrictValues = Record<string, string | string[] | boolean | undefined> & { help?: boolean };

/**
 * String options that may be given more than once (`dump --include`, `--exclude`, `broadcast --queue`): their values are
 * collected in order and reach the command as one JSON array text (see {@link repeated}).
 */
export const REPEATABLE: ReadonlySet<string> = new Set(["include", "exclude", "queue"]);

/** A read-only view of a command's values: what citty hands a command's `run` satisfies it too. */
export type ParsedValues = { readonly [name: string]: unknown };

/**
 * The tokens that make citty's loose parser produce exactly `values`: each
 * option as `--name` or `--name=value`, then `--` and the positionals in
 * declaration order, so no value or positional can be taken for an option.
 */
export function canonicalArgs(def: ArgsDef, values: StrictValues): string[] {
  const options: string[] = [];
  const positionals: string[] = [];
  for (const name in def) {
    const value = values[name];
    if (value === undefined) continue;
    if (def[name]!.type === "positional") positionals.push(value as string);
    else if (value === true) options.push(`--${name}`);
    else if (typeof value === "string") options.push(`--${name}=${value}`);
    else if (Array.isArray(value)) options.push(`--${name}=${JSON.stringify(value)}`); // citty keeps only the last of repeated options
  }
  options.push("--");
  for (const p of positionals) options.push(p);
  return options;
}

/** The values of a {@link REPEATABLE} option or a variadic positional as the command receives it (a JSON array text), or [] when absent. */
export function repeated(value: unknown): string[] {
  return typeof value === "string" ? (JSON.parse(value) as string[]) : [];
}

/**
 * Parse a command's tokens against its citty `ArgsDef`, strictly: unknown
 * options are errors; long options accept unique prefixes; string options
 * take `--opt value`, `--opt=value`, `-oVALUE`; `--` ends the options.
 * `freeform` marks message text that may start with a dash (`write` and `broadcast`).
 */
export function parseCommandArgs(def: ArgsDef, tokens: string[], freeform?: "write" | "broadcast"): StrictValues {
  const toks = [...(freeform ? protectFreeform(tokens, freeform) : tokens)]; // a copy: combined short flags are split in place
  const out: StrictValues = {};
  // Plain loops here and below: every CLI call runs this once, and each array builtin written in JS
  // (filter, map, Array.from) costs its first caller a compile of ~0.1-0.7 ms.
  const positionals: [string, ArgsDef[string]][] = [];
  const longs = new Map<string, string>();
  const shorts = new Map<string, string>();
  for (const [name, d] of Object.entries(def)) {
    if (d.type === "positional") {
      positionals.push([name, d]);
      continue;
    }
    longs.set(name, name);
    for (const a of ([] as string[]).concat((d as { alias?: string | string[] }).alias ?? [])) {
      if (a.length === 1) shorts.set(a, name);
      else longs.set(a, name);
    }
  }
  longs.set("help", "help");
  shorts.set("h", "help");
  const values: string[] = [];
  const extra: string[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < toks.length; i++) {
    const tok = toks[i]!;
    if (onlyPositionals || tok === "-" || !tok.startsWith("-")) {
      values.push(tok);
      continue;
    }
    if (tok === "--") {
      onlyPositionals = true;
      continue;
    }
    let name: string;
    let inline: string | undefined;
    let spelled: string;
    if (tok.startsWith("--")) {
      const eq = tok.indexOf("=");
      const raw = eq > 0 ? tok.slice(2, eq) : tok.slice(2);
      inline = eq > 0 ? tok.slice(eq + 1) : undefined;
      const hit = matchLong(longs, raw);
      if (hit === null) {
        extra.push(tok);
        continue;
      }
      if (Array.isArray(hit)) {
        throw new UsageError(`ambiguous option: --${raw} could match ${hit.map((h) => `--${h}`).join(", ")}`);
      }
      name = longs.get(hit)!;
      spelled = `--${hit}`;
    } else {
      const short = shorts.get(tok[1]!);
      if (!short) {
        extra.push(tok);
        continue;
      }
      name = short;
      spelled = tok.slice(0, 2);
      if (tok.length > 2) inline = tok.slice(2);
    }
    const kind = name === "help" ? "boolean" : def[name]!.type;
    if (kind === "boolean") {
      if (inline !== undefined && spelled.startsWith("--")) {
        throw new UsageError(`argument ${describe(def, name)}: ignored explicit argument '${inline}'`);
      }
      out[name] = true;
      if (inline !== undefined) {
        // combined short flags, e.g. -tq: re-scan the remainder as its own flag group
        toks.splice(i + 1, 0, `-${inline}`);
      }
      continue;
    }
    if (inline === undefined) {
      const next = toks[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-" && !/^-\d/.test(next))) {
        throw new UsageError(`argument ${describe(def, name)}: expected one argument`);
      }
      inline = next;
      i++;
    }
    const seen = out[name];
    out[name] = !REPEATABLE.has(name) ? inline : Array.isArray(seen) ? [...seen, inline] : [inline];
  }
  if (out.help) return out;
  let p = 0;
  for (const [name, d] of positionals) {
    // A variadic positional (`ack Q ID…`) takes every remaining value, as one JSON array text (see `repeated`).
    if ((d as { variadic?: boolean }).variadic && p < values.length) {
      out[name] = JSON.stringify(values.slice(p));
      p = values.length;
    } else if (p < values.length) out[name] = values[p++];
    else if (d.required !== false) {
      const missing = positionals.slice(positionals.findIndex(([n]) => n === name)).filter(([, pd]) => pd.required !== false);
      throw new UsageError(`the following arguments are required: ${missing.map(([n]) => n).join(", ")}`);
    }
  }
  extra.push(...values.slice(p));
  if (extra.length) throw new UsageError(`unrecognized arguments: ${extra.join(" ")}`);
  return out;
}

// --- internal ---

function matchLong(longs: Map<string, string>, raw: string): string | string[] | null {
  if (longs.has(raw)) return raw;
  const hits = [...longs.keys()].filter((k) => k.startsWith(raw));
  if (hits.length === 0 || raw === "") return null;
  if (new Set(hits.map((h) => longs.get(h))).size === 1) return hits.sort((a, b) => a.length - b.length)[0]!;
  // A prefix that SimpleBroker resolved to one of its options keeps meaning it when we add options of our own
  // (`watch --m` is still --move beside --max-attempts): see docs/compatibility.md#option-prefixes.
  const original = hits.filter((h) => !EXTENSION_OPTIONS.has(longs.get(h)!));
  if (original.length > 0 && new Set(original.map((h) => longs.get(h))).size === 1) {
    return original.sort((a, b) => a.length - b.length)[0]!;
  }
  return hits;
}

/** Long options SimpleBroker does not have (leases, workers, delays): they take no part in its prefix matches. */
const EXTENSION_OPTIONS: ReadonlySet<string> = new Set(["lease", "exec", "max-attempts", "concurrency", "delay", "at"]);

function describe(def: ArgsDef, name: string): string {
  const d = def[name] as { alias?: string | string[] } | undefined;
  const aliases = ([] as string[]).concat(d?.alias ?? []);
  const short = aliases.find((a) => a.length === 1);
  return short ? `-${short}/--${name}` : `--${name}`;
}

/** Insert `--` so that message text beginning with `-` is data, not an option. */
function protectFreeform(tokens: string[], kind: "write" | "broadcast"): string[] {
  if (tokens.includes("--")) return tokens;
  const help = tokens.length >= 1 && (tokens[0] === "--help" || tokens[0] === "-h");
  if (help) return tokens; // `write --help` / `broadcast --help` show help (docs/compatibility.md#q2-help-on-write-and-broadcast)
  if (kind === "write") {
    const [queue, message] = tokens;
    if (queue?.startsWith("-")) return ["--", ...tokens];
    if (message?.startsWith("-") && message !== "-") return [queue!, "--", ...tokens.slice(1)];
    return tokens;
  }
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok === "-p" || tok === "--pattern" || tok === "--queue" || tok === "--delay") {
      i++;
      continue;
    }
    if (tok.startsWith("--pattern=") || tok.startsWith("--queue=") || tok.startsWith("--delay=")) continue; // `-pX` is not skipped: 3.6.1 treats it as message text
    if (tok.startsWith("-") && tok !== "-") return [...tokens.slice(0, i), "--", ...tokens.slice(i)];
  }
  return tokens;
}
