// Guards the strict pre-parse in cli/argv.ts (docs/compatibility.md#command-line): global options only
// before the command, exact argparse error texts, unique long-option
// prefixes, `--opt=value` / `-mVALUE`, `--`, and message text starting with a
// dash that stays data for `write` and `broadcast` (`alias` is a command, so later
// tokens are never hoisted: docs/compatibility.md#q1-alias-hoisting; `--help`: #q2-help-on-write-and-broadcast). A seeded
// property test checks that nothing but UsageError ever escapes the parser.
import { beforeAll, describe, expect, test } from "bun:test";
import { parseArgs as cittyParse } from "citty";
import {
  aliasCommand,
  canonicalArgs,
  COMMANDS,
  parseCommandArgs,
  parseGlobals,
  UsageError,
  type CommandName,
  type GlobalOptions,
} from "../../cli/argv.ts";
import { suggestCommand } from "../../cli/suggest.ts";
import { parseCanonical } from "../../cli/_citty-canonical.ts";
import type { BrokerCommand } from "../../cli/command.ts";
import { COMMAND_LOADERS, loadAliasGroup } from "../../cli/commands/index.ts";
import { seededRandom as prng } from "../helpers.ts";

const DEFAULTS: GlobalOptions = {
  quiet: false,
  version: false,
  cleanup: false,
  vacuum: false,
  compact: false,
  status: false,
  statusJson: false,
  help: false,
};

let commands: Record<string, BrokerCommand>;
let aliasCommands: Record<string, BrokerCommand>;
beforeAll(async () => {
  commands = {};
  for (const [name, load] of Object.entries(COMMAND_LOADERS)) commands[name] = await load();
  aliasCommands = {};
  for (const [name, load] of Object.entries((await loadAliasGroup()).subCommands)) aliasCommands[name] = await load();
});

const args = (name: string) => commands[name]!.args;

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error("expected a UsageError");
}

describe("parseGlobals", () => {
  test.each<[string[], Partial<GlobalOptions>, string | undefined, string[]]>([
    [[], {}, undefined, []],
    [["list"], {}, "list", []],
    [["-d", "x", "list"], { dir: "x" }, "list", []],
    [["--dir", "x", "--file", "y.db", "read", "q"], { dir: "x", file: "y.db" }, "read", ["q"]],
    [["--dir=x", "--file=y", "read", "q"], { dir: "x", file: "y" }, "read", ["q"]],
    [["--dir=a=b", "list"], { dir: "a=b" }, "list", []],
    [["-dX", "-fY", "list"], { dir: "X", file: "Y" }, "list", []],
    [["-f", "write", "write", "q", "m"], { file: "write" }, "write", ["q", "m"]],
    [["-f", "read.txt", "write", "q"], { file: "read.txt" }, "write", ["q"]],
    [["-q", "--quiet", "peek", "q"], { quiet: true }, "peek", ["q"]],
    [["--version", "write", "q", "m"], { version: true }, "write", ["q", "m"]],
    [["--cleanup"], { cleanup: true }, undefined, []],
    [["--vacuum", "--compact"], { vacuum: true, compact: true }, undefined, []],
    [["--status"], { status: true }, undefined, []],
    [["--status", "--json"], { status: true, statusJson: true }, undefined, []],
    [["--json", "--status"], { status: true, statusJson: true }, undefined, []],
    [["--status", "read", "q", "--json"], { status: true, statusJson: true }, "read", ["q"]],
    [["--help"], { help: true }, undefined, []],
    [["write", "q", "--cleanup"], {}, "write", ["q", "--cleanup"]],
    [["broadcast", "--cleanup"], {}, "broadcast", ["--cleanup"]],
    [["list", "--cleanup", "-q"], {}, "list", ["--cleanup", "-q"]],
    // alias is a command word; nothing after it is hoisted (docs/compatibility.md#q1-alias-hoisting).
    [["alias", "add", "a", "b", "--cleanup"], {}, "alias", ["add", "a", "b", "--cleanup"]],
    [["-q", "alias", "add", "-q", "a", "b"], { quiet: true }, "alias", ["add", "-q", "a", "b"]],
  ])("%j", (argv, globals, command, rest) => {
    expect(parseGlobals(argv)).toEqual({ globals: { ...DEFAULTS, ...globals }, command: command as never, rest });
  });

  test.each<[string[], string]>([
    [["--dir"], "option --dir requires an argument"],
    [["-d"], "option -d requires an argument"],
    [["-f", "-q", "write", "q", "m"], "option -f requires an argument"],
    [["--dir", "--quiet", "list"], "option --dir requires an argument"],
    [["-d", "-", "list"], "option -d requires an argument"],
    [["--dir=", "list"], "option --dir requires an argument"],
    [["--file="], "option --file requires an argument"],
    [["--quiet=1"], "argument --quiet: ignored explicit argument '1'"],
    [["--bogus", "list"], "unrecognized arguments: --bogus list"],
    [["--di", "x"], "unrecognized arguments: --di x"],
    [["--json"], "unrecognized arguments: --json"],
    [
      ["foo"],
      "argument command: invalid choice: 'foo' (choose from 'write', 'read', 'peek', 'list', 'exists', 'stats', 'delete', 'move', 'broadcast', 'alias', 'watch', 'init')",
    ],
    [
      ["-"],
      "argument command: invalid choice: '-' (choose from 'write', 'read', 'peek', 'list', 'exists', 'stats', 'delete', 'move', 'broadcast', 'alias', 'watch', 'init')",
    ],
  ])("%j fails: %s", (argv, message) => {
    expect(usageError(() => parseGlobals(argv))).toBe(message);
  });

  test("does not change its argument", () => {
    const argv = ["--json", "--status", "-d", "x"];
    parseGlobals(argv);
    expect(argv).toEqual(["--json", "--status", "-d", "x"]);
  });
});

describe("help and typos", () => {
  test.each<[string[], CommandName | undefined, string[]]>([
    [["help"], undefined, []],
    [["help", "read"], undefined, ["read"]],
    [["-d", "x", "help", "alias", "add"], undefined, ["alias", "add"]],
    [["write", "help"], "write", ["help"]],
  ])("%j", (argv, command, rest) => {
    const parsed = parseGlobals(argv);
    expect({ help: parsed.globals.help, command: parsed.command, rest: parsed.rest }).toEqual({
      help: command === undefined,
      command,
      rest,
    });
  });

  test.each<[string, string | undefined]>([
    ["reed", "read"],
    ["raed", "read"],
    ["wirte", "write"],
    ["writ", "write"],
    ["brodcast", "broadcast"],
    ["lst", "list"],
    ["peak", "peek"],
    ["exist", "exists"],
    ["hlep", "help"],
    ["inti", "init"],
    ["Read", undefined],
    ["READ", undefined],
    ["foo", undefined],
    ["frobnicate", undefined],
    ["q", undefined],
    ["r", undefined],
    ["-", undefined],
    ["read1", undefined],
    ["", undefined],
  ])("%j suggests %j", (word, expected) => {
    expect(suggestCommand(word, [...COMMANDS, "serve", "help"])).toBe(expected);
  });

  test("the suggestion ends the one-line invalid-choice error", () => {
    const choices = COMMANDS.map((c) => `'${c}'`).join(", ");
    expect(usageError(() => parseGlobals(["reed", "q"]))).toBe(
      `argument command: invalid choice: 'reed' (choose from ${choices}); did you mean 'read'?`,
    );
    expect(usageError(() => parseGlobals(["Read", "q"]))).toBe(
      `argument command: invalid choice: 'Read' (choose from ${choices})`,
    );
    expect(usageError(() => aliasCommand("ad"))).toBe(
      "argument alias_command: invalid choice: 'ad' (choose from 'add', 'remove', 'list'); did you mean 'add'?",
    );
    expect(usageError(() => aliasCommand(undefined))).toBe("alias subcommand is required");
  });
});

describe("parseCommandArgs", () => {
  test.each<[string, string[], Record<string, string | boolean>]>([
    ["read", ["q"], { queue: "q" }],
    ["read", ["q", "--js"], { queue: "q", json: true }],
    ["peek", ["q", "--tim"], { queue: "q", timestamps: true }],
    ["peek", ["q", "-t", "--all"], { queue: "q", timestamps: true, all: true }],
    ["read", ["q", "--after=5"], { queue: "q", after: "5" }],
    ["read", ["q", "--aft", "5"], { queue: "q", after: "5" }],
    ["read", ["q", "--after", "-5"], { queue: "q", after: "-5" }],
    ["read", ["q", "--before", "2024-01-15"], { queue: "q", before: "2024-01-15" }],
    ["read", ["q", "-m1837025672140161024"], { queue: "q", message: "1837025672140161024" }],
    ["read", ["q", "--message=1837025672140161024"], { queue: "q", message: "1837025672140161024" }],
    ["read", ["q", "-tm", "X"], { queue: "q", timestamps: true, message: "X" }],
    ["read", ["--json", "q"], { queue: "q", json: true }],
    ["read", ["--", "-q"], { queue: "-q" }],
    ["move", ["a", "b", "--all", "--after", "1"], { source: "a", destination: "b", all: true, after: "1" }],
    ["delete", ["--all"], { all: true }],
    ["list", ["--stats", "--pre", "jo"], { stats: true, prefix: "jo" }],
    ["list", ["-p", "j*", "--json"], { pattern: "j*", json: true }],
    ["watch", ["q", "--move", "r"], { queue: "q", move: "r" }],
    ["write", ["q", "m"], { queue: "q", message: "m" }],
    ["write", ["q"], { queue: "q" }],
    ["write", ["q", "-"], { queue: "q", message: "-" }],
    ["write", ["q", "--cleanup"], { queue: "q", message: "--cleanup" }],
    ["write", ["q", "--help"], { queue: "q", message: "--help" }],
    ["write", ["q", "-5"], { queue: "q", message: "-5" }],
    ["write", ["-x", "m"], { queue: "-x", message: "m" }],
    ["write", ["q", "--", "-x"], { queue: "q", message: "-x" }],
    ["write", ["--help"], { help: true }],
    ["write", ["-h"], { help: true }],
    ["broadcast", ["m"], { message: "m" }],
    ["broadcast", ["--", "-x"], { message: "-x" }],
    ["broadcast", ["--cleanup"], { message: "--cleanup" }],
    ["broadcast", ["-x"], { message: "-x" }],
    ["broadcast", ["-pfoo"], { message: "-pfoo" }],
    ["broadcast", ["-p", "a*", "-x"], { pattern: "a*", message: "-x" }],
    ["broadcast", ["--pattern", "a*", "m"], { pattern: "a*", message: "m" }],
    ["broadcast", ["--pattern=a*", "--json"], { pattern: "a*", message: "--json" }],
    ["broadcast", ["--help"], { help: true }],
    ["init", ["--force"], { force: true }],
    ["stats", ["q", "--json"], { queue: "q", json: true }],
    ["exists", ["q"], { queue: "q" }],
  ])("%s %j", (name, tokens, expected) => {
    const def = commands[name]!;
    expect(parseCommandArgs(args(name), tokens, def.freeform)).toEqual(expected);
  });

  test.each<[string, string[], Record<string, string | boolean>]>([
    ["add", ["a", "b"], { alias: "a", target: "b" }],
    ["add", ["a", "b", "-q"], { alias: "a", target: "b", quiet: true }],
    ["add", ["-q", "a", "b"], { alias: "a", target: "b", quiet: true }],
    ["remove", ["a"], { alias: "a" }],
    ["list", [], {}],
    ["list", ["--target", "q"], { target: "q" }],
    ["list", ["--help"], { help: true }],
  ])("alias %s %j", (sub, tokens, expected) => {
    expect(parseCommandArgs(aliasCommands[sub]!.args, tokens)).toEqual(expected);
  });

  test.each<[string, string[], string]>([
    ["read", [], "the following arguments are required: queue"],
    ["move", [], "the following arguments are required: source, destination"],
    ["move", ["a"], "the following arguments are required: destination"],
    ["read", ["q", "--a", "1"], "ambiguous option: --a could match --all, --after"],
    ["read", ["q", "--after"], "argument --after: expected one argument"],
    ["read", ["q", "--after", "--json"], "argument --after: expected one argument"],
    ["read", ["q", "-m"], "argument -m/--message: expected one argument"],
    ["read", ["q", "--json=1"], "argument --json: ignored explicit argument '1'"],
    ["read", ["q", "-x"], "unrecognized arguments: -x"],
    ["read", ["q", "--zz=3"], "unrecognized arguments: --zz=3"],
    ["read", ["q", "extra"], "unrecognized arguments: extra"],
    ["read", ["q", "--cleanup", "-q"], "unrecognized arguments: --cleanup -q"],
    ["list", ["--cleanup"], "unrecognized arguments: --cleanup"],
    ["watch", ["q", "--quiet"], "unrecognized arguments: --quiet"],
    ["write", [], "the following arguments are required: queue"],
    ["write", ["q", "m", "extra"], "unrecognized arguments: extra"],
    ["broadcast", [], "the following arguments are required: message"],
    ["broadcast", ["-pfoo", "m"], "unrecognized arguments: m"],
    ["broadcast", ["-p"], "argument -p/--pattern: expected one argument"],
  ])("%s %j fails: %s", (name, tokens, message) => {
    expect(usageError(() => parseCommandArgs(args(name), tokens, commands[name]!.freeform))).toBe(message);
  });

  test("our options never take a prefix away from SimpleBroker's (docs/compatibility.md#option-prefixes)", () => {
    const watch = (tokens: string[]) => parseCommandArgs(args("watch"), tokens);
    expect(watch(["q", "--m", "dest"])).toMatchObject({ queue: "q", move: "dest" });
    expect(watch(["q", "--mo", "dest"])).toMatchObject({ move: "dest" });
    expect(watch(["q", "--ma", "3"])).toMatchObject({ "max-attempts": "3" });
    expect(watch(["q", "--ex", "cat"])).toMatchObject({ exec: "cat" });
    expect(usageError(() => parseCommandArgs(args("read"), ["q", "--a", "1"]))).toBe(
      "ambiguous option: --a could match --all, --after",
    );
  });

  test("alias add a b --cleanup is an error (Q1 fixed)", () => {
    expect(usageError(() => parseCommandArgs(aliasCommands.add!.args, ["a", "b", "--cleanup"]))).toBe(
      "unrecognized arguments: --cleanup",
    );
  });

  test("does not change its argument", () => {
    const tokens = ["q", "-tm", "X"];
    parseCommandArgs(args("read"), tokens);
    expect(tokens).toEqual(["q", "-tm", "X"]);
  });
});

// --- property tests ---

const TOKENS = [
  ...COMMANDS,
  "add",
  "remove",
  "list",
  "-d",
  "--dir",
  "-f",
  "--file",
  "-q",
  "--quiet",
  "--version",
  "--cleanup",
  "--vacuum",
  "--compact",
  "--status",
  "--json",
  "-h",
  "--help",
  "--dir=x",
  "--dir=",
  "--file=y.db",
  "-dX",
  "--quiet=1",
  "--all",
  "-t",
  "--timestamps",
  "-m",
  "-m1837025672140161024",
  "--message=",
  "--after",
  "--after=",
  "--after=-1",
  "--before",
  "--js",
  "--a",
  "--tim",
  "-p",
  "--pattern",
  "--pattern=a*",
  "-pX",
  "--prefix",
  "--stats",
  "--peek",
  "--move",
  "--target",
  "--force",
  "--",
  "-",
  "",
  "=",
  "q",
  "queue.name",
  "a*",
  "1837025672140161024",
  "é",
  "-5",
  "--x=y",
  "-tq",
  "-qt",
];
const CHARS = ["-", "-", "=", "a", "b", "m", "p", "q", "t", "h", "0", "5", " ", "é", "\n", "*", "@"];

function randomText(rand: () => number, min: number): string {
  const n = min + Math.floor(rand() * 10);
  let s = "";
  for (let i = 0; i < n; i++) s += CHARS[Math.floor(rand() * CHARS.length)]!;
  return s;
}

function randomTokens(rand: () => number): string[] {
  const n = Math.floor(rand() * 8);
  return Array.from({ length: n }, () => (rand() < 0.8 ? TOKENS[Math.floor(rand() * TOKENS.length)]! : randomText(rand, 0)));
}

/** The CLI's parse path: globals, then the command's (or alias sub-command's) own tokens; returns what was parsed. */
function parseLikeMain(
  argv: string[],
): { words: string[]; def: BrokerCommand["args"]; values: ReturnType<typeof parseCommandArgs> } | undefined {
  const { command, rest } = parseGlobals(argv);
  if (command === undefined) return undefined;
  if (command === "alias") {
    const name = aliasCommand(rest[0]);
    const sub = aliasCommands[name]!;
    return { words: ["alias", name], def: sub.args, values: parseCommandArgs(sub.args, rest.slice(1)) };
  }
  return { words: [command], def: args(command), values: parseCommandArgs(args(command), rest, commands[command]!.freeform) };
}

/**
 * The binary's fast path for citty's parser (cli/_citty-canonical.ts) on the canonical tokens: when it answers, the
 * answer is every key citty's parser sets, with the same values. Returns whether it answered.
 */
function fastPathAgrees(def: BrokerCommand["args"], tokens: string[]): boolean {
  const fast = parseCanonical(tokens, def);
  if (fast === undefined) return false;
  expect({ tokens, fast }).toEqual({ tokens, fast: { ...cittyParse(tokens, def) } });
  return true;
}

/** What citty's own parser makes of the canonical tokens, keyed like the `ArgsDef` (unset keys left out). */
function cittyValues(def: BrokerCommand["args"], tokens: string[]): Record<string, unknown> {
  const parsed = cittyParse(tokens, def);
  const values: Record<string, unknown> = {};
  for (const name in def) if (parsed[name] !== undefined) values[name] = parsed[name];
  return values;
}

describe("properties (seeded)", () => {
  test("2,000 random token lists: only UsageError escapes", () => {
    const rand = prng(0x5eed);
    let usage = 0;
    for (let i = 0; i < 2_000; i++) {
      const argv = randomTokens(rand);
      try {
        parseLikeMain(argv);
      } catch (error) {
        if (!(error instanceof UsageError)) throw new Error(`${JSON.stringify(argv)} threw ${String(error)}`);
        expect(error.message.length).toBeGreaterThan(0);
        usage++;
      }
    }
    // The generator must exercise both outcomes.
    expect(usage).toBeGreaterThan(100);
    expect(usage).toBeLessThan(1_900);
  });

  test("2,000 random token lists: citty parses the canonical tokens into exactly the strict values", () => {
    const rand = prng(0xc177);
    const words = [...COMMANDS, "alias add", "alias remove", "alias list"];
    let compared = 0;
    let fast = 0;
    for (let i = 0; i < 2_000; i++) {
      const argv = [...words[Math.floor(rand() * words.length)]!.split(" "), ...randomTokens(rand)];
      let parsed: ReturnType<typeof parseLikeMain>;
      try {
        parsed = parseLikeMain(argv);
      } catch {
        continue;
      }
      if (!parsed || parsed.values.help) continue;
      const tokens = canonicalArgs(parsed.def, parsed.values);
      expect({ argv, values: cittyValues(parsed.def, tokens) }).toEqual({ argv, values: parsed.values });
      compared++;
      if (fastPathAgrees(parsed.def, tokens)) fast++;
      // What the root command (and the alias group) is given: the command's words in front.
      expect(fastPathAgrees({}, [...parsed.words, ...tokens])).toBe(true);
    }
    expect(compared).toBeGreaterThan(100);
    // The fast path answers for nearly every command line (not for `--no-…` tokens, nor for bad ones citty reports).
    expect(fast).toBeGreaterThan(compared * 0.8);
  });

  test("the fast path leaves to citty what it does not parse itself", () => {
    const def = {
      queue: { type: "positional" },
      json: { type: "boolean" },
      since: { type: "string", alias: "s" },
      "max-attempts": { type: "string" },
    } as const;
    expect(parseCanonical(["--json", "--since=5", "--max-attempts=3", "--", "q", "extra"], def)).toEqual({
      ...cittyParse(["--json", "--since=5", "--max-attempts=3", "--", "q", "extra"], def),
    });
    for (const tokens of [
      ["q"], // no `--`
      ["-", "--", "q"], // a dash
      ["--json=true", "--", "q"], // a boolean with a value
      ["--since", "5", "--", "q"], // a string without `=`
      ["--no-json", "--", "q"], // a negation
      ["--__proto__", "--", "q"], // an option name citty never stores
      ["-j", "--", "q"], // a short option
      ["--"], // a required positional missing: citty reports it
    ]) {
      expect({ tokens, fast: parseCanonical(tokens, def) }).toEqual({ tokens, fast: undefined });
    }
    // The root command: the command's words, then the command's own canonical tokens.
    for (const tokens of [
      ["write", "--", "q", "m"],
      ["alias", "add", "--json", "--", "a", "b"],
      ["q", "--json", "--", "x"],
    ]) {
      expect({ tokens, fast: parseCanonical(tokens, {}) }).toEqual({ tokens, fast: { ...cittyParse(tokens, {}) } });
    }
    expect(parseCanonical(["--", "q"], { ...def, level: { type: "enum", options: ["a"] } })).toBeUndefined();
    expect(parseCanonical(["--", "q"], { ...def, json: { type: "boolean", default: false } })).toBeUndefined();
    expect(parseCanonical(["--", "q"], { ...def, fooBar: { type: "boolean" } })).toBeUndefined();
  });

  // Spellings that are grammar, not text, even in 3.6.1: `--` ends options,
  // `-h`/`--help` as the first broadcast token asks for help (docs/compatibility.md#q2-help-on-write-and-broadcast), and
  // `-p`/`--pattern`/`--pattern=…` are broadcast's own option.
  const RESERVED = (msg: string, kind: "write" | "broadcast") =>
    msg === "--" ||
    (kind === "broadcast" &&
      (msg === "-h" || msg === "--help" || msg === "-p" || msg === "--pattern" || msg.startsWith("--pattern=")));

  test("2,000 dash-leading messages: write and broadcast keep them as data", () => {
    const rand = prng(42);
    for (let i = 0; i < 2_000; i++) {
      const msg = (rand() < 0.5 ? "-" : "--") + randomText(rand, 0);
      for (const kind of ["write", "broadcast"] as const) {
        if (RESERVED(msg, kind)) continue;
        const argv = kind === "write" ? ["-q", "write", "q", msg] : ["broadcast", msg];
        const { command, rest } = parseGlobals(argv);
        expect(command).toBe(kind);
        const parsed = parseCommandArgs(args(kind), rest, kind);
        expect(parsed).toEqual(kind === "write" ? { queue: "q", message: msg } : { message: msg });
        expect(cittyValues(args(kind), canonicalArgs(args(kind), parsed))).toEqual(parsed);
        expect(fastPathAgrees(args(kind), canonicalArgs(args(kind), parsed))).toBe(true);
      }
      // With a pattern first, the message is still data.
      if (!RESERVED(msg, "broadcast")) {
        expect(parseCommandArgs(args("broadcast"), ["-p", "a*", msg], "broadcast")).toEqual({ pattern: "a*", message: msg });
      }
    }
  });
});
