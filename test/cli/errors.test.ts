// Guards the error texts of 3.6.1 (docs/compatibility.md#command-line, #output): every error this CLI
// can produce for a bad command line prints exactly one line
// `simplebroker: error: …` (or the JSON error object with --json) on stderr,
// nothing on stdout, and exits 1. Also bad env values are one line, not a
// traceback (docs/compatibility.md#q19-bad-configuration), and that `list --cleanup` never deletes the database.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

const NAME_RULE =
  "Invalid queue name: must contain only letters, numbers, periods, underscores, and hyphens. Cannot begin with a hyphen or a period";
const PREFIX_RULE =
  "Invalid queue prefix: must contain only letters, numbers, periods, underscores, and hyphens. Cannot begin with a hyphen or a period";
const CHOICES = "'write', 'read', 'peek', 'list', 'exists', 'stats', 'delete', 'move', 'broadcast', 'alias', 'watch', 'init'";
const ID = "1837025672140161024";
/** Timeout of tests that run several CLI processes one after another (many run concurrently). */
const SLOW = 30_000;
const jsonError = (code: string, message: string) => `{"error": "${code}", "message": "${message}", "retryable": false}\n`;
const BAD_ID = jsonError("INVALID_MESSAGE_ID", "invalid message ID: expected exactly 19 digits");

interface Case {
  args: string[];
  stderr: string;
  env?: Record<string, string>;
  stdin?: string;
}

/** Run one case in a fresh folder and expect exit 1, empty stdout and exactly `stderr`. */
async function expectError({ args, stderr, env, stdin }: Case): Promise<void> {
  using d = tempDir();
  const r = await runCli(args, { cwd: d.path, env, stdin });
  expect({ args, ...r }).toEqual({ args, stdout: "", stderr, exitCode: 1 });
}

const plain = (text: string) => `simplebroker: error: ${text}\n`;
const table = (rows: [string[], string][]): Case[] => rows.map(([args, text]) => ({ args, stderr: plain(text) }));

describe("queue names", () => {
  const bad: [string, string][] = [
    ["-x", NAME_RULE],
    [".x", NAME_RULE],
    ["", "Invalid queue name: cannot be empty"],
    ["a".repeat(513), "Invalid queue name: exceeds 512 characters"],
    ["abc\n", NAME_RULE], // a trailing newline is rejected (docs/compatibility.md#q4-trailing-newline-in-queue-names)
    ...[":", "a@b", "!", "#", "$", "%", "^", "&", "*", "+", "=", "{}", "[]", "|", "?", "<>", ";", "a b", "é"].map(
      (c) => [c.length === 1 ? `q${c}` : c, NAME_RULE] as [string, string],
    ),
  ];
  test.concurrent.each(bad)("write %j is refused", (name, text) =>
    expectError({ args: ["write", name, "m"], stderr: plain(text) }),
  );
  const otherCommands = (name: string) => [
    ["read", "--", name],
    ["peek", "--", name],
    ["exists", "--", name],
    ["stats", "--", name],
    ["move", "ok", "--", name],
    ["delete", "--", name],
  ];
  test.concurrent.each(
    bad.slice(0, 4).flatMap(([name, text]) => otherCommands(name).map((args) => ({ args, stderr: plain(text) }))),
  )("$args is refused", expectError);
  test.concurrent.each([
    [["list", "--prefix", ".x"], PREFIX_RULE],
    [["list", "--prefix=-x"], PREFIX_RULE],
    [["list", "--prefix", "a".repeat(513)], "Invalid queue prefix: exceeds 512 characters"],
    [["list", "-p", ".x*"], PREFIX_RULE],
    [["list", "--json", "--prefix", "a$"], PREFIX_RULE],
  ] as [string[], string][])("%j", (args, text) =>
    expectError({ args, stderr: args.includes("--json") ? jsonError("ERROR", text) : plain(text) }),
  );
});

describe("message size", () => {
  const env = { BROKER_MAX_MESSAGE_SIZE: "6" };
  test.concurrent.each<Case>([
    { args: ["write", "q", "1234567"], stderr: plain("Message exceeds maximum size of 6 bytes"), env },
    { args: ["write", "q", "éééa"], stderr: plain("Message exceeds maximum size of 6 bytes"), env },
    { args: ["write", "q", "-"], stdin: "1234567", stderr: plain("Input exceeds maximum size of 6 bytes"), env },
    { args: ["write", "q"], stdin: "ééé\n", stderr: plain("Input exceeds maximum size of 6 bytes"), env },
    { args: ["broadcast", "1234567"], stderr: plain("Message exceeds maximum size of 6 bytes"), env },
    { args: ["broadcast", "-"], stdin: "1234567", stderr: plain("Input exceeds maximum size of 6 bytes"), env },
  ])("$args with stdin $stdin", expectError);
});

describe("global options", () => {
  test.concurrent.each(
    table([
      [["--status", "write", "q", "x"], "--status cannot be used with commands"],
      [["--status", "list"], "--status cannot be used with commands"],
      [["--compact"], "--compact can only be used with --vacuum"],
      [["--compact", "list"], "--compact can only be used with --vacuum"],
      [["--vacuum", "write", "q", "x"], "--vacuum cannot be used with commands"],
      [["--vacuum", "--compact", "list"], "--vacuum cannot be used with commands"],
      [["--dir"], "option --dir requires an argument"],
      [["-d"], "option -d requires an argument"],
      [["--dir", "--quiet", "list"], "option --dir requires an argument"],
      [["-f", "-q", "write", "q", "x"], "option -f requires an argument"],
      [["--file", "--status"], "option --file requires an argument"],
      [["--dir=", "list"], "option --dir requires an argument"],
      [["--file=", "list"], "option --file requires an argument"],
      [["foo"], `argument command: invalid choice: 'foo' (choose from ${CHOICES})`],
      [["-q", "Read", "q"], `argument command: invalid choice: 'Read' (choose from ${CHOICES})`],
      [["list", "--cleanup"], "unrecognized arguments: --cleanup"],
      [["list", "--cleanup", "-q"], "unrecognized arguments: --cleanup -q"],
      [["watch", "q", "--quiet"], "unrecognized arguments: --quiet"],
      [["read", "q", "--vacuum"], "unrecognized arguments: --vacuum"],
      [["peek", "q", "extra"], "unrecognized arguments: extra"],
      [["write"], "the following arguments are required: queue"],
      [["broadcast"], "the following arguments are required: message"],
      [["move", "a"], "the following arguments are required: destination"],
      [["delete"], "one of the arguments queue --all is required"],
      [["delete", "q", "--all"], "argument --all: not allowed with argument queue"],
      [["list", "--prefix", "a", "-p", "b*"], "argument -p/--pattern: not allowed with argument --prefix"],
    ]),
  )("$args", expectError);

  test.concurrent("--status --json with a command prints the JSON error", () =>
    expectError({
      args: ["--status", "--json", "list"],
      stderr: jsonError("INVALID_ARGUMENT", "--status cannot be used with commands"),
    }));

  test.concurrent(
    "list --cleanup is an error and keeps the database",
    async () => {
      using d = tempDir();
      expect(await runCli(["write", "q", "keep"], { cwd: d.path })).toEqual({ stdout: "", stderr: "", exitCode: 0 });
      for (const args of [
        ["list", "--cleanup"],
        ["list", "--cleanup", "-q"],
        ["read", "q", "--cleanup"],
      ]) {
        const r = await runCli(args, { cwd: d.path });
        expect(r).toEqual({
          stdout: "",
          stderr: `simplebroker: error: unrecognized arguments: ${args.slice(args.indexOf("--cleanup")).join(" ")}\n`,
          exitCode: 1,
        });
      }
      expect(existsSync(join(d.path, ".broker.db"))).toBe(true);
      expect(await runCli(["read", "q"], { cwd: d.path })).toEqual({ stdout: "keep\n", stderr: "", exitCode: 0 });
    },
    SLOW,
  );
});

describe("move, -m and filters", () => {
  test.concurrent.each<Case>([
    { args: ["move", "a", "a"], stderr: plain("Source and destination queues cannot be the same") },
    {
      args: ["move", "a", "a", "--json"],
      stderr: jsonError("INVALID_ARGUMENT", "Source and destination queues cannot be the same"),
    },
    { args: ["move", "a", "a", "--all"], stderr: plain("Source and destination queues cannot be the same") },
    { args: ["read", "q", "-m", ID, "--all"], stderr: plain("--message cannot be used with --all, --after, or --before") },
    { args: ["peek", "q", "-m", ID, "--after", "5"], stderr: plain("--message cannot be used with --all, --after, or --before") },
    {
      args: ["read", "q", "-m", ID, "--before", "5"],
      stderr: plain("--message cannot be used with --all, --after, or --before"),
    },
    { args: ["move", "a", "b", "-m", ID, "--after", "1"], stderr: plain("--message cannot be used with --after or --before") },
    { args: ["move", "a", "b", "-m", ID, "--all"], stderr: plain("argument --all: not allowed with argument -m/--message") },
    { args: ["delete", "--all", "-m", ID], stderr: plain("--message requires a queue name") },
    { args: ["read", "q", "--after"], stderr: plain("argument --after: expected one argument") },
    { args: ["peek", "q", "--before"], stderr: plain("argument --before: expected one argument") },
    { args: ["read", "q", "-m"], stderr: plain("argument -m/--message: expected one argument") },
  ])("$args", expectError);

  const badIds = ["123", "12345678901234567890", "123456789012345678a", "abc", "invalid", ""];
  test.concurrent.each(
    badIds.flatMap((id) => [
      ...[
        ["read", "q"],
        ["peek", "q"],
        ["move", "q", "r"],
      ].flatMap((cmd) => [
        { args: [...cmd, "-m", id, "--json"], stderr: BAD_ID },
        { args: [...cmd, "-m", id], stderr: plain("invalid message ID: expected exactly 19 digits") },
      ]),
      { args: ["delete", "q", "-m", id], stderr: plain("invalid message ID: expected exactly 19 digits") },
    ]),
  )("invalid -m: $args", expectError);

  test.concurrent(
    "-m out of the 63-bit range",
    async () => {
      const range = jsonError("INVALID_MESSAGE_ID", "invalid message ID: expected exactly 19 digits within range");
      await expectError({ args: ["read", "q", "-m", "9999999999999999999", "--json"], stderr: range });
      await expectError({ args: ["peek", "q", "--json", "-m9223372036854775808"], stderr: range });
    },
    SLOW,
  );

  test.concurrent.each(
    table([
      [["read", "q", "--after", "1.5e9"], "Invalid timestamp: scientific notation not supported"],
      [["read", "q", "--after", "1e10"], "Invalid timestamp: scientific notation not supported"],
      [["read", "q", "--after=-1"], "Invalid timestamp: cannot be negative"],
      [["peek", "q", "--before=-1000ms"], "Invalid timestamp: cannot be negative"],
      [["read", "q", "--after", "18446744073709551616"], "Invalid timestamp: exceeds maximum value"],
      [["read", "q", "--after", "9223372036854775808"], "Invalid timestamp: exceeds maximum value"],
      [["read", "q", "--after="], "Invalid timestamp: empty string"],
      [["read", "q", "--after", "   "], "Invalid timestamp: empty string"],
      [["move", "a", "b", "--after", "now"], "Invalid timestamp: now"],
      [["peek", "q", "--after", "2024-13-01"], "Invalid timestamp: 2024-13-01"],
      [["read", "q", "--after", "99999999999"], "Invalid timestamp: 99999999999"],
      [["read", "q", "--after", "9999999999999999999ns"], "Invalid timestamp: too far in future"],
      [["watch", "q", "--after", "abc"], "Invalid timestamp: abc"],
    ]),
  )("$args", expectError);

  test.concurrent("invalid timestamp with --json", () =>
    expectError({
      args: ["read", "q", "--json", "--after", "invalid"],
      stderr: jsonError("INVALID_TIMESTAMP", "Invalid timestamp: invalid"),
    }));
});

describe("aliases", () => {
  test.concurrent.each(
    table([
      [["read", "@nope"], "Alias 'nope' is not defined"],
      [["write", "@nope", "m"], "Alias 'nope' is not defined"],
      [["move", "q", "@nope"], "Alias 'nope' is not defined"],
      [["delete", "@nope"], "Alias 'nope' is not defined"],
      [["read", "@"], "Alias name cannot be empty"],
      [["stats", "@"], "Alias name cannot be empty"],
      [["alias"], "alias subcommand is required"],
      [["alias", "foo"], "argument alias_command: invalid choice: 'foo' (choose from 'add', 'remove', 'list')"],
      [["alias", "add", "a", "a"], "Alias and target must differ"],
      [["alias", "add", "a", "@b"], "Target names should not include the '@' prefix"],
      [["alias", "add", "a", ""], "Alias target cannot be empty"],
      [["alias", "add", "", "b"], "Invalid queue name: cannot be empty"],
      [["alias", "add", ".a", "b"], NAME_RULE],
      [["alias", "add", "a", "bad name"], NAME_RULE], // targets are validated (docs/compatibility.md#q17-alias-targets-are-validated)
      [["alias", "add", "a"], "the following arguments are required: target"],
      [["alias", "add", "a", "b", "--cleanup"], "unrecognized arguments: --cleanup"],
    ]),
  )("$args", expectError);

  test.concurrent(
    "remove unknown, add twice, target an alias",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      expect(await runCli(["alias", "remove", "x"], { cwd })).toEqual({
        stdout: "",
        stderr: "simplebroker: alias 'x' does not exist\n",
        exitCode: 1,
      });
      expect(await runCli(["alias", "add", "a", "b"], { cwd })).toEqual({ stdout: "", stderr: "", exitCode: 0 });
      expect(await runCli(["alias", "add", "a", "c"], { cwd })).toEqual({
        stdout: "",
        stderr: plain("Alias 'a' already exists"),
        exitCode: 1,
      });
      expect(await runCli(["alias", "add", "c", "a"], { cwd })).toEqual({
        stdout: "",
        stderr: plain("Cannot target another alias"),
        exitCode: 1,
      });
      expect(await runCli(["alias", "list"], { cwd })).toEqual({ stdout: "a -> b\n", stderr: "", exitCode: 0 });
    },
    SLOW,
  );
});

describe("environment (Q19: one line, no traceback)", () => {
  test.concurrent.each<[Record<string, string>, string]>([
    [{ BROKER_BUSY_TIMEOUT: "abc" }, "Invalid BROKER_BUSY_TIMEOUT 'abc': expected an integer"],
    [{ BROKER_MAX_MESSAGE_SIZE: "x" }, "Invalid BROKER_MAX_MESSAGE_SIZE 'x': expected an integer"],
    [{ BROKER_CACHE_MB: "1.5" }, "Invalid BROKER_CACHE_MB '1.5': expected an integer"],
    [{ BROKER_BACKEND: "nope" }, "Requested backend 'nope' is not available."],
  ])("%j", (env, text) => expectError({ args: ["list"], env, stderr: plain(text) }));

  test.concurrent("a negative BROKER_WAL_AUTOCHECKPOINT only warns", async () => {
    using d = tempDir();
    expect(await runCli(["list"], { cwd: d.path, env: { BROKER_WAL_AUTOCHECKPOINT: "-1" } })).toEqual({
      stdout: "",
      stderr: "simplebroker: warning: Invalid BROKER_WAL_AUTOCHECKPOINT '-1', must be >= 0. Using default of 1000.\n",
      exitCode: 0,
    });
  });
});
