// Guards the metadata commands list/exists/stats/--status/--vacuum
// (docs/compatibility.md#commands): which queues are listed with and without --stats, the totals line,
// --prefix / --pattern filters, exists/stats plain and JSON forms with @alias
// resolution, and the vacuum status lines.
import { describe, expect, test } from "bun:test";
import { runCli, tempDir } from "../helpers.ts";

const OK = { stdout: "", stderr: "", exitCode: 0 };
const EMPTY = { stdout: "", stderr: "", exitCode: 2 };
const out = (stdout: string) => ({ stdout, stderr: "", exitCode: 0 });
const SLOW = 30_000;

async function setup(cwd: string): Promise<void> {
  for (const [q, m] of [
    ["jobs", "1"],
    ["jobs", "2"],
    ["jobs.done", "3"],
    ["mail", "4"],
    ["gone", "5"],
    ["Zeta", "6"],
  ]) {
    expect(await runCli(["write", q!, m!], { cwd })).toEqual(OK);
  }
  expect(await runCli(["read", "jobs"], { cwd })).toEqual(out("1\n"));
  expect(await runCli(["read", "gone"], { cwd })).toEqual(out("5\n"));
}

describe("list", () => {
  test.concurrent(
    "plain, --stats, --json; claimed-only queues only with --stats; binary name order",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      expect(await runCli(["list"], { cwd })).toEqual(OK);
      await setup(cwd);
      expect(await runCli(["list"], { cwd })).toEqual(out("Zeta: 1\njobs: 1\njobs.done: 1\nmail: 1\n"));
      expect(await runCli(["list", "--stats"], { cwd })).toEqual(
        out(
          "Zeta: 1\ngone: 0 (1 total, 1 claimed)\njobs: 1 (2 total, 1 claimed)\njobs.done: 1\nmail: 1\n\nTotal claimed messages: 2/6\n",
        ),
      );
      expect(await runCli(["list", "--json"], { cwd })).toEqual(
        out(
          [
            '{"queue": "Zeta", "pending": 1, "claimed": 0, "total": 1, "exists": true}',
            '{"queue": "jobs", "pending": 1, "claimed": 1, "total": 2, "exists": true}',
            '{"queue": "jobs.done", "pending": 1, "claimed": 0, "total": 1, "exists": true}',
            '{"queue": "mail", "pending": 1, "claimed": 0, "total": 1, "exists": true}',
            "",
          ].join("\n"),
        ),
      );
      expect(await runCli(["list", "--stats", "--json", "--prefix", "g"], { cwd })).toEqual(
        out('{"queue": "gone", "pending": 0, "claimed": 1, "total": 1, "exists": true}\n'),
      );
    },
    SLOW,
  );

  test.concurrent(
    "--prefix is literal, --pattern is fnmatch; the totals line ignores the filter",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      await setup(cwd);
      expect(await runCli(["list", "--prefix", "jobs"], { cwd })).toEqual(out("jobs: 1\njobs.done: 1\n"));
      expect(await runCli(["list", "--prefix", "jobs."], { cwd })).toEqual(out("jobs.done: 1\n"));
      expect(await runCli(["list", "--prefix", "j*"], { cwd })).toEqual({
        stdout: "",
        stderr:
          "simplebroker: error: Invalid queue prefix: must contain only letters, numbers, periods, underscores, and hyphens. Cannot begin with a hyphen or a period\n",
        exitCode: 1,
      });
      expect(await runCli(["list", "-p", "jobs*"], { cwd })).toEqual(out("jobs: 1\njobs.done: 1\n"));
      expect(await runCli(["list", "--pattern", "?ail"], { cwd })).toEqual(out("mail: 1\n"));
      expect(await runCli(["list", "-p", "[jm]*"], { cwd })).toEqual(out("jobs: 1\njobs.done: 1\nmail: 1\n"));
      expect(await runCli(["list", "-p", "[!jm]*"], { cwd })).toEqual(out("Zeta: 1\n"));
      expect(await runCli(["list", "-p", "zeta"], { cwd })).toEqual(OK);
      expect(await runCli(["list", "--stats", "-p", "mail"], { cwd })).toEqual(out("mail: 1\n\nTotal claimed messages: 2/6\n"));
      expect(await runCli(["list", "--prefix", "nothing"], { cwd })).toEqual(OK);
    },
    SLOW,
  );
});

describe("exists and stats", () => {
  test.concurrent(
    "exists counts claimed rows; JSON for both outcomes; @alias resolved",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      await setup(cwd);
      expect(await runCli(["alias", "add", "g", "gone"], { cwd })).toEqual(OK);
      expect(await runCli(["exists", "gone"], { cwd })).toEqual(OK);
      expect(await runCli(["exists", "@g", "--json"], { cwd })).toEqual(out('{"queue": "gone", "exists": true}\n'));
      expect(await runCli(["exists", "nope"], { cwd })).toEqual(EMPTY);
      expect(await runCli(["exists", "nope", "--json"], { cwd })).toEqual({
        stdout: '{"queue": "nope", "exists": false}\n',
        stderr: "",
        exitCode: 2,
      });
      expect(await runCli(["exists", "g"], { cwd })).toEqual(EMPTY);
    },
    SLOW,
  );

  test.concurrent(
    "stats plain and JSON, always exit 0",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      await setup(cwd);
      expect(await runCli(["alias", "add", "j", "jobs"], { cwd })).toEqual(OK);
      expect(await runCli(["stats", "jobs"], { cwd })).toEqual(out("jobs: 1 (2 total, 1 claimed)\n"));
      expect(await runCli(["stats", "mail"], { cwd })).toEqual(out("mail: 1\n"));
      expect(await runCli(["stats", "missing"], { cwd })).toEqual(out("missing: 0\n"));
      expect(await runCli(["stats", "@j", "--json"], { cwd })).toEqual(
        out('{"queue": "jobs", "pending": 1, "claimed": 1, "total": 2, "exists": true}\n'),
      );
      expect(await runCli(["stats", "missing", "--json"], { cwd })).toEqual(
        out('{"queue": "missing", "pending": 0, "claimed": 0, "total": 0, "exists": false}\n'),
      );
    },
    SLOW,
  );
});

describe("--status and --vacuum", () => {
  test.concurrent(
    "--status counts claimed rows; --vacuum removes them, -q silences it",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      const db = `${cwd}/.broker.db`;
      expect(await runCli(["--vacuum"], { cwd })).toEqual({ stdout: "", stderr: `Database not found: ${db}\n`, exitCode: 0 });
      await setup(cwd);
      expect(await runCli(["--status"], { cwd })).toMatchObject({
        stdout: expect.stringMatching(/^total_messages: 6\nlast_timestamp: \d{19}\ndb_size: \d+\n$/),
        exitCode: 0,
      });
      expect(await runCli(["--vacuum"], { cwd })).toEqual({
        stdout: "",
        stderr: expect.stringMatching(/^Vacuumed 2 claimed messages in \d+\.\ds\n$/),
        exitCode: 0,
      });
      expect(await runCli(["--vacuum"], { cwd })).toEqual({ stdout: "", stderr: "No claimed messages to vacuum\n", exitCode: 0 });
      expect(await runCli(["--vacuum", "--compact"], { cwd })).toEqual({
        stdout: "",
        stderr: expect.stringMatching(/^Database compacted in \d+\.\ds\n$/),
        exitCode: 0,
      });
      expect(await runCli(["-q", "--vacuum", "--compact"], { cwd })).toEqual(OK);
      expect(await runCli(["list", "--stats"], { cwd })).toEqual(out("Zeta: 1\njobs: 1\njobs.done: 1\nmail: 1\n"));
      expect(await runCli(["exists", "gone"], { cwd })).toEqual(EMPTY);
      expect(await runCli(["--status", "--json"], { cwd })).toMatchObject({
        stdout: expect.stringMatching(/^\{"total_messages": 4, "last_timestamp": \d{19}, "db_size": \d+\}\n$/),
        exitCode: 0,
      });
    },
    SLOW,
  );
});
