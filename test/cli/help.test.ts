// Guards "help that helps" (issue 15 item 6) through the real CLI: one layout
// for the root, the alias group and every command; `broker help [COMMAND]`
// says the same as `COMMAND --help`; every command shows examples, and every
// example is a command line the strict grammar accepts; a mistyped command
// gets "did you mean" at the end of its one-line error (exit 1, nothing
// created). Help is plain text on stdout with nothing on stderr.
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { aliasCommand, COMMANDS, EXTENSION_COMMANDS, parseCommandArgs, parseGlobals } from "../../cli/argv.ts";
import { COMMAND_LOADERS, loadAliasGroup } from "../../cli/commands/index.ts";
import { runCli, tempDir } from "../helpers.ts";

const ALL = [...COMMANDS, ...EXTENSION_COMMANDS].filter((c) => c !== "alias");
const ALIAS_SUBS = ["add", "remove", "list"];
const CHOICES = COMMANDS.map((c) => `'${c}'`).join(", ");

/** Run with `args` in an empty folder: exit 0, empty stderr, nothing created; returns stdout. */
async function helpOf(args: string[]): Promise<string> {
  using d = tempDir();
  const r = await runCli(args, { cwd: d.path });
  expect({ args, exitCode: r.exitCode, stderr: r.stderr }).toEqual({ args, exitCode: 0, stderr: "" });
  expect(readdirSync(d.path)).toEqual([]);
  return r.stdout;
}

/**
 * The one layout: `<title> - <description>`, a blank line, `Usage: broker …`,
 * then sections (`Heading:` and indented two-column rows, the second column
 * aligned), `Examples:` with `broker …` lines, closing notes, a final newline.
 */
function expectLayout(text: string, title: string): void {
  expect(text).not.toContain("\x1b");
  expect(text.endsWith("\n")).toBe(true);
  const lines = text.split("\n");
  expect(lines[0]).toStartWith(`${title} - `);
  expect(lines[1]).toBe("");
  expect(lines[2]).toStartWith("Usage: broker [global options]");
  const headings = lines.filter((l) => /^[A-Z][^:]*:$/.test(l));
  expect(headings.at(-1)).toBe("Examples:");
  expect(headings.length).toBeGreaterThanOrEqual(2);
  for (const heading of headings.slice(0, -1)) {
    const start = lines.indexOf(heading) + 1;
    const rows = lines.slice(start, lines.indexOf("", start));
    expect(rows.length).toBeGreaterThan(0);
    const columns = rows.map((r) => /^ {2}\S.*?\s{2,}(\S)/.exec(r)?.[0].length);
    expect({ heading, aligned: new Set(columns).size, missing: columns.includes(undefined) }).toEqual({
      heading,
      aligned: 1,
      missing: false,
    });
  }
  const examples = lines.slice(lines.indexOf("Examples:") + 1, lines.indexOf("", lines.indexOf("Examples:")));
  expect(examples.length).toBeGreaterThan(0);
  for (const e of examples) expect(e).toStartWith("  broker ");
}

describe("root help", () => {
  test.concurrent("no arguments, --help, -h, help, and help after global options print the same text", async () => {
    const root = await helpOf([]);
    for (const args of [["--help"], ["-h"], ["help"], ["-q", "help"], ["-d", "somewhere", "help"], ["help", "help"]]) {
      expect({ args, text: await helpOf(args) }).toEqual({ args, text: root });
    }
    expectLayout(root, "broker");
    expect(root).toStartWith("broker - a durable message queue in one SQLite file (simplebroker 3.6.1)\n");
    for (const name of [...COMMANDS, ...EXTENSION_COMMANDS, "help"]) expect(root).toMatch(new RegExp(`^  ${name} +\\S`, "m"));
    for (const option of ["-d, --dir DIR", "-f, --file NAME", "-q, --quiet", "--version", "--cleanup", "--vacuum", "--status"]) {
      expect(root).toContain(`\n  ${option} `);
    }
    expect(root).toContain("Exit codes: 0 ok, 1 error, 2 empty queue / nothing matched.\n");
  }, 60_000);
});

describe("command help", () => {
  test.concurrent.each(ALL)(
    "%s: help COMMAND, COMMAND --help and COMMAND -h agree, in the shared layout",
    async (name) => {
      const text = await helpOf(["help", name]);
      expect(await helpOf([name, "--help"])).toBe(text);
      expect(await helpOf([name, "-h"])).toBe(text);
      expectLayout(text, `broker ${name}`);
      const cmd = await COMMAND_LOADERS[name as keyof typeof COMMAND_LOADERS]();
      expect(text.split("\n")[0]).toBe(`broker ${name} - ${cmd.meta.description}`);
      for (const [arg, def] of Object.entries(cmd.args)) {
        if (def.type === "positional") expect(text).toMatch(new RegExp(`^Usage: .* ${name} .*[<[]${arg}[>\\]]`, "m"));
        else expect(text).toMatch(new RegExp(`^  (-\\w, )?--${arg}( [A-Z]+)?  +${escapeRegExp(def.description!)}$`, "m"));
      }
    },
    60_000,
  );

  test.concurrent("read in full", async () => {
    expect(await helpOf(["help", "read"])).toBe(
      [
        "broker read - Read and remove messages from a queue",
        "",
        "Usage: broker [global options] read [options] <queue>",
        "",
        "Arguments:",
        "  queue             Queue name or @alias",
        "",
        "Options:",
        "  --json            Output one JSON object per line",
        "  -t, --timestamps  Prefix each message with its id and a tab",
        "  --all             Act on every matching message",
        "  -m, --message ID  Select exactly this 19-digit message id",
        "  --after TS        Only messages with an id/time strictly after this",
        "  --before TS       Only messages with an id/time strictly before this",
        "  --lease DUR       Take it under a lease of DUR (e.g. 30s) instead of for good; prints its id",
        "  -h, --help        Show this help",
        "",
        "Examples:",
        "  broker read jobs",
        "  broker read jobs --all --json",
        "  broker read jobs --after 2024-06-01T00:00:00Z -t",
        "  broker read jobs --lease 30s",
        "",
        "Global options go before 'read'; see 'broker help'.",
        "",
      ].join("\n"),
    );
  });

  test.concurrent("the alias group and its sub-commands", async () => {
    const group = await helpOf(["alias", "--help"]);
    expect(await helpOf(["help", "alias"])).toBe(group);
    expect(await helpOf(["alias", "-h"])).toBe(group);
    expectLayout(group, "broker alias");
    for (const sub of ALIAS_SUBS) {
      expect(group).toMatch(new RegExp(`^  ${sub} +\\S`, "m"));
      const text = await helpOf(["help", "alias", sub]);
      expect(await helpOf(["alias", sub, "--help"])).toBe(text);
      expectLayout(text, `broker alias ${sub}`);
      expect(text).toContain(`Usage: broker [global options] alias ${sub} `);
    }
  }, 60_000);
});

describe("examples", () => {
  /** Split an example as a shell would (quotes, no expansion) and stop at `&&`, `|`, `<`. */
  function words(example: string): string[] {
    const out: string[] = [];
    for (const m of example.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
      const word = m[1] ?? m[2] ?? m[3]!;
      if (m[3] !== undefined && ["&&", "|", "<", ">"].includes(word)) break;
      out.push(word);
    }
    return out;
  }

  test("every example of every command is a command line the strict grammar accepts", async () => {
    const checked: string[] = [];
    const check = async (example: string) => {
      const { globals, command, rest } = parseGlobals(words(example));
      expect({ example, help: globals.help }).toEqual({ example, help: false });
      expect(command).toBeDefined();
      if (command === "alias") {
        const sub = (await loadAliasGroup()).subCommands[aliasCommand(rest[0])]!;
        parseCommandArgs((await sub()).args, rest.slice(1));
      } else {
        const cmd = await COMMAND_LOADERS[command as keyof typeof COMMAND_LOADERS]();
        parseCommandArgs(cmd.args, rest, cmd.freeform);
      }
      checked.push(example);
    };
    for (const load of Object.values(COMMAND_LOADERS)) for (const e of (await load()).meta.examples) await check(e);
    const group = await loadAliasGroup();
    for (const e of group.meta.examples) await check(e);
    for (const load of Object.values(group.subCommands)) for (const e of (await load()).meta.examples) await check(e);
    expect(checked.length).toBeGreaterThan(ALL.length + ALIAS_SUBS.length);
  });

  test.concurrent("the examples of write, read, list and alias work as shown", async () => {
    using d = tempDir();
    const cwd = d.path;
    expect(await runCli(["write", "jobs", "resize photo.jpg"], { cwd })).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    expect(await runCli(["alias", "add", "jobs", "jobs-v2"], { cwd })).toMatchObject({ exitCode: 0 });
    expect(await runCli(["write", "@jobs", "resize photo.jpg"], { cwd })).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    expect(await runCli(["alias", "list", "--target", "jobs-v2"], { cwd })).toEqual({
      stdout: "jobs -> jobs-v2\n",
      stderr: "",
      exitCode: 0,
    });
    expect(await runCli(["list", "-p", "jobs-*"], { cwd })).toEqual({ stdout: "jobs-v2: 1\n", stderr: "", exitCode: 0 });
    expect(await runCli(["read", "jobs", "--after", "2024-06-01T00:00:00Z", "-t"], { cwd })).toMatchObject({
      stdout: expect.stringMatching(/^\d{19}\tresize photo\.jpg\n$/),
      exitCode: 0,
    });
  }, 60_000);
});

describe("did you mean", () => {
  const cases: [string[], string][] = [
    [["reed", "q"], `argument command: invalid choice: 'reed' (choose from ${CHOICES}); did you mean 'read'?`],
    [["-q", "wirte", "q", "m"], `argument command: invalid choice: 'wirte' (choose from ${CHOICES}); did you mean 'write'?`],
    [["brodcast", "m"], `argument command: invalid choice: 'brodcast' (choose from ${CHOICES}); did you mean 'broadcast'?`],
    [["hlep"], `argument command: invalid choice: 'hlep' (choose from ${CHOICES}); did you mean 'help'?`],
    [["help", "reed"], `argument command: invalid choice: 'reed' (choose from ${CHOICES}); did you mean 'read'?`],
    [
      ["alias", "ad", "a", "b"],
      "argument alias_command: invalid choice: 'ad' (choose from 'add', 'remove', 'list'); did you mean 'add'?",
    ],
    [
      ["help", "alias", "rmove"],
      "argument alias_command: invalid choice: 'rmove' (choose from 'add', 'remove', 'list'); did you mean 'remove'?",
    ],
    [["xyzzy"], `argument command: invalid choice: 'xyzzy' (choose from ${CHOICES})`],
    [["help", "read", "extra"], "unrecognized arguments: extra"],
    [["read", "q", "--bogus"], "unrecognized arguments: --bogus"],
  ];
  test.concurrent.each(cases)("%j", async (args, message) => {
    using d = tempDir();
    const r = await runCli(args, { cwd: d.path });
    expect(r).toEqual({ stdout: "", stderr: `simplebroker: error: ${message}\n`, exitCode: 1 });
    expect(readdirSync(d.path)).toEqual([]);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
