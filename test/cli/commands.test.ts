// Guards the argument grammar end to end through the real CLI (docs/compatibility.md#command-line):
// dash-leading message text is data, a command word
// can be a file name, `--dir=`/`--file=` forms, `--version` before a command,
// `--json --status`, unique option prefixes, `--after=V`, `-mV`, help on every
// command (quirk Q2), `alias add … --cleanup` (Q1) and `alias add -q` (Q9), all fixed
// (docs/compatibility.md#quirks).
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

const OK = { stdout: "", stderr: "", exitCode: 0 };
/** Timeout of tests that run several CLI processes one after another. */
const SLOW = 30_000;

/** `peek q --all -t` as [id, body] pairs. */
async function peekIds(cwd: string, queue: string, extra: string[] = []): Promise<[string, string][]> {
  const r = await runCli(["peek", queue, "--all", "-t", ...extra], { cwd });
  expect(r.stderr).toBe("");
  return r.stdout === ""
    ? []
    : r.stdout
        .trimEnd()
        .split("\n")
        .map((l) => l.split("\t") as [string, string]);
}

describe("message text that looks like an option", () => {
  test.concurrent(
    "write q --cleanup stores --cleanup and keeps the database",
    async () => {
      using d = tempDir();
      expect(await runCli(["write", "q", "--cleanup"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["write", "q", "-q"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["write", "q", "--json"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["write", "q", "--", "--"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["read", "q", "--all"], { cwd: d.path })).toEqual({
        stdout: "--cleanup\n-q\n--json\n--\n",
        stderr: "",
        exitCode: 0,
      });
    },
    SLOW,
  );

  test.concurrent(
    "broadcast -- -x and broadcast --cleanup",
    async () => {
      using d = tempDir();
      expect(await runCli(["write", "a", "first"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["write", "b", "first"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["broadcast", "--", "-x"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["broadcast", "--cleanup"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["broadcast", "-p", "a*", "--version"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["broadcast", "-pb"], { cwd: d.path })).toEqual(OK); // 3.6.1: -pX is message text
      expect(await runCli(["read", "a", "--all"], { cwd: d.path })).toEqual({
        stdout: "first\n-x\n--cleanup\n--version\n-pb\n",
        stderr: "",
        exitCode: 0,
      });
      expect(await runCli(["read", "b", "--all"], { cwd: d.path })).toEqual({
        stdout: "first\n-x\n--cleanup\n-pb\n",
        stderr: "",
        exitCode: 0,
      });
      expect(existsSync(join(d.path, ".broker.db"))).toBe(true);
    },
    SLOW,
  );
});

describe("global options", () => {
  test.concurrent(
    "-f write write q m uses the file named write",
    async () => {
      using d = tempDir();
      expect(await runCli(["-f", "write", "write", "q", "m"], { cwd: d.path })).toEqual(OK);
      expect(readdirSync(d.path).filter((f) => !f.startsWith("write-"))).toEqual(["write"]);
      expect(await runCli(["--file=write", "read", "q"], { cwd: d.path })).toEqual({ stdout: "m\n", stderr: "", exitCode: 0 });
      expect(await runCli(["-f", "read.txt", "write", "q", "n"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["-fread.txt", "peek", "q"], { cwd: d.path })).toEqual({ stdout: "n\n", stderr: "", exitCode: 0 });
    },
    SLOW,
  );

  test.concurrent(
    "--dir=X and --file=X",
    async () => {
      using d = tempDir();
      expect(await runCli(["-d", d.path, "-f", "x.db", "write", "q", "m"], { cwd: "/" })).toEqual(OK);
      expect(await runCli([`--dir=${d.path}`, "--file=x.db", "peek", "q"], { cwd: "/" })).toEqual({
        stdout: "m\n",
        stderr: "",
        exitCode: 0,
      });
      expect(await runCli([`-d${d.path}`, "--file", "x.db", "peek", "q"], { cwd: "/" })).toEqual({
        stdout: "m\n",
        stderr: "",
        exitCode: 0,
      });
      expect(existsSync(join(d.path, "x.db"))).toBe(true);
    },
    SLOW,
  );

  test.concurrent(
    "--version before a command prints the version and does nothing else",
    async () => {
      using d = tempDir();
      expect(await runCli(["--version", "write", "q", "m"], { cwd: d.path })).toEqual({
        stdout: "simplebroker 3.6.1\n",
        stderr: "",
        exitCode: 0,
      });
      expect(await runCli(["--version", "--cleanup"], { cwd: d.path })).toEqual({
        stdout: "simplebroker 3.6.1\n",
        stderr: "",
        exitCode: 0,
      });
      expect(existsSync(join(d.path, ".broker.db"))).toBe(false);
    },
    SLOW,
  );

  test.concurrent(
    "--status, --status --json and --json --status",
    async () => {
      using d = tempDir();
      const plain = await runCli(["--status"], { cwd: d.path });
      expect(plain).toEqual({
        stdout: expect.stringMatching(/^total_messages: 0\nlast_timestamp: 0\ndb_size: \d+\n$/),
        stderr: "",
        exitCode: 0,
      });
      expect(await runCli(["write", "q", "a"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["write", "q", "b"], { cwd: d.path })).toEqual(OK);
      const ids = await peekIds(d.path, "q");
      expect(ids.map(([, body]) => body)).toEqual(["a", "b"]);
      const lastId = ids[1]![0];
      for (const argv of [
        ["--status", "--json"],
        ["--json", "--status"],
        ["-q", "--json", "--status"],
      ]) {
        const r = await runCli(argv, { cwd: d.path });
        expect(r).toEqual({
          stdout: expect.stringMatching(
            new RegExp(`^\\{"total_messages": 2, "last_timestamp": ${lastId}, "db_size": \\d+\\}\\n$`),
          ),
          stderr: "",
          exitCode: 0,
        });
      }
    },
    SLOW,
  );

  test.concurrent(
    "no command: help on stdout, exit 0, no database",
    async () => {
      using d = tempDir();
      for (const argv of [[], ["-q"], ["--help"], ["-h"]]) {
        const r = await runCli(argv, { cwd: d.path });
        expect({ argv, exitCode: r.exitCode, stderr: r.stderr }).toEqual({ argv, exitCode: 0, stderr: "" });
        expect(r.stdout).toContain("Usage: broker [global options] <command>");
      }
      expect(readdirSync(d.path)).toEqual([]);
    },
    SLOW,
  );
});

describe("command options", () => {
  test.concurrent(
    "unique prefixes, --after=V and -mV",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      for (const m of ["one", "two", "three"]) expect(await runCli(["write", "q", m], { cwd })).toEqual(OK);
      const ids = await peekIds(cwd, "q");
      expect(await runCli(["peek", "q", "--tim"], { cwd })).toEqual({ stdout: `${ids[0]![0]}\tone\n`, stderr: "", exitCode: 0 });
      expect(await runCli(["peek", "q", "--al", "--js"], { cwd })).toEqual({
        stdout: ids.map(([id, b]) => `{"message": "${b}", "timestamp": ${id}}\n`).join(""),
        stderr: "",
        exitCode: 0,
      });
      expect(await runCli(["peek", "q", `--after=${ids[0]![0]}`, "--all"], { cwd })).toEqual({
        stdout: "two\nthree\n",
        stderr: "",
        exitCode: 0,
      });
      expect(await runCli(["peek", "q", `--bef=${ids[2]![0]}`, "--all"], { cwd })).toEqual({
        stdout: "one\ntwo\n",
        stderr: "",
        exitCode: 0,
      });
      expect(await runCli(["read", "q", `-m${ids[1]![0]}`], { cwd })).toEqual({ stdout: "two\n", stderr: "", exitCode: 0 });
      expect(await runCli(["read", "q", `--message=${ids[2]![0]}`, "--json"], { cwd })).toEqual({
        stdout: `{"message": "three", "timestamp": ${ids[2]![0]}}\n`,
        stderr: "",
        exitCode: 0,
      });
      expect(await runCli(["read", "q", "--js"], { cwd })).toEqual({
        stdout: `{"message": "one", "timestamp": ${ids[0]![0]}}\n`,
        stderr: "",
        exitCode: 0,
      });
    },
    SLOW,
  );

  test.concurrent.each(["write", "read", "peek", "list", "exists", "stats", "delete", "move", "broadcast", "watch", "init"])(
    "%s --help prints help on stdout, exit 0, creates nothing",
    async (name) => {
      using d = tempDir();
      for (const flag of ["--help", "-h"]) {
        const r = await runCli([name, flag], { cwd: d.path });
        expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: "" });
        expect(r.stdout).toContain(`Usage: broker [global options] ${name} `);
      }
      expect(readdirSync(d.path)).toEqual([]);
    },
  );

  test.concurrent(
    "alias --help and alias add --help",
    async () => {
      using d = tempDir();
      const group = await runCli(["alias", "--help"], { cwd: d.path });
      expect({ exitCode: group.exitCode, stderr: group.stderr }).toEqual({ exitCode: 0, stderr: "" });
      expect(group.stdout).toStartWith("broker alias - ");
      const add = await runCli(["alias", "add", "--help"], { cwd: d.path });
      expect({ exitCode: add.exitCode, stderr: add.stderr }).toEqual({ exitCode: 0, stderr: "" });
      expect(add.stdout).toContain("Usage: broker [global options] alias add ");
      expect(readdirSync(d.path)).toEqual([]);
    },
    SLOW,
  );
});

describe("alias grammar", () => {
  test.concurrent(
    "alias add a b --cleanup is an error and keeps the database (Q1 fixed)",
    async () => {
      using d = tempDir();
      expect(await runCli(["write", "q", "keep"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["alias", "add", "a", "b", "--cleanup"], { cwd: d.path })).toEqual({
        stdout: "",
        stderr: "simplebroker: error: unrecognized arguments: --cleanup\n",
        exitCode: 1,
      });
      expect(await runCli(["alias", "list", "--vacuum"], { cwd: d.path })).toEqual({
        stdout: "",
        stderr: "simplebroker: error: unrecognized arguments: --vacuum\n",
        exitCode: 1,
      });
      expect(await runCli(["peek", "q"], { cwd: d.path })).toEqual({ stdout: "keep\n", stderr: "", exitCode: 0 });
      expect(await runCli(["alias", "list"], { cwd: d.path })).toEqual(OK);
    },
    SLOW,
  );

  test.concurrent(
    "alias add -q silences the existing-queue warning, in both positions (Q9 fixed)",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      for (const q of ["a1", "a2", "a3", "a4"]) expect(await runCli(["write", q, "x"], { cwd })).toEqual(OK);
      const warning = (a: string) =>
        `simplebroker: warning: Queue '${a}' already exists with messages. The alias @${a} will redirect to 't' while the queue ${a} remains accessible directly.\n`;
      expect(await runCli(["alias", "add", "a1", "t"], { cwd })).toEqual({ stdout: "", stderr: warning("a1"), exitCode: 0 });
      expect(await runCli(["alias", "add", "-q", "a2", "t"], { cwd })).toEqual(OK);
      expect(await runCli(["alias", "add", "a3", "t", "--quiet"], { cwd })).toEqual(OK);
      expect(await runCli(["-q", "alias", "add", "a4", "t"], { cwd })).toEqual(OK);
      expect(await runCli(["alias", "list"], { cwd })).toEqual({
        stdout: "a1 -> t\na2 -> t\na3 -> t\na4 -> t\n",
        stderr: "",
        exitCode: 0,
      });
    },
    SLOW,
  );
});
