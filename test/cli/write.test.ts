// Guards write and broadcast (docs/compatibility.md#commands, #input-limits): the
// message sources (argument, `-`, implicit stdin, no trimming), valid queue
// names, strict UTF-8 stdin with Python's error text, and broadcast targets
// (existing queues incl. claimed-only, pattern filter, exit 2, distinct ids,
// no alias resolution).
import { describe, expect, test } from "bun:test";
import { runCli, tempDir } from "../helpers.ts";

const OK = { stdout: "", stderr: "", exitCode: 0 };
const EMPTY = { stdout: "", stderr: "", exitCode: 2 };
const out = (stdout: string) => ({ stdout, stderr: "", exitCode: 0 });
const SLOW = 30_000;

describe("write", () => {
  test.concurrent(
    "argument, '-', implicit stdin; stdin is stored as is",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      expect(await runCli(["write", "q", "arg"], { cwd })).toEqual(OK);
      expect(await runCli(["write", "q", "-"], { cwd, stdin: "dash\n" })).toEqual(OK);
      expect(await runCli(["write", "q"], { cwd, stdin: "line1\nline2" })).toEqual(OK);
      expect(await runCli(["write", "q"], { cwd, stdin: "  spaced  \n\n" })).toEqual(OK);
      expect(await runCli(["read", "q", "--all", "--json"], { cwd })).toEqual({
        stdout: expect.stringMatching(
          // biome-ignore lint/complexity/noAdjacentSpacesInRegex: the spaces are the message under test
          /^\{"message": "arg", "timestamp": \d{19}\}\n\{"message": "dash\\n", "timestamp": \d{19}\}\n\{"message": "line1\\nline2", "timestamp": \d{19}\}\n\{"message": "  spaced  \\n\\n", "timestamp": \d{19}\}\n$/,
        ),
        stderr: "",
        exitCode: 0,
      });
    },
    SLOW,
  );

  test.concurrent(
    "a 1 MiB message through stdin round-trips",
    async () => {
      using d = tempDir();
      const big = "é".repeat(1 << 19) + "end";
      expect(await runCli(["write", "q", "-"], { cwd: d.path, stdin: big })).toEqual(OK);
      expect(await runCli(["read", "q"], { cwd: d.path })).toEqual(out(`${big}\n`));
    },
    SLOW,
  );

  test.concurrent.each(["_x", "123x", "a.b-c_d", "Q", "a".repeat(512), "x-", "x."])("queue name %j is accepted", async (name) => {
    using d = tempDir();
    expect(await runCli(["write", name, "m"], { cwd: d.path })).toEqual(OK);
    expect(await runCli(["read", name], { cwd: d.path })).toEqual(out("m\n"));
  });

  test.concurrent(
    "queue names are case-sensitive",
    async () => {
      using d = tempDir();
      expect(await runCli(["write", "Jobs", "upper"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["read", "jobs"], { cwd: d.path })).toEqual(EMPTY);
      expect(await runCli(["read", "Jobs"], { cwd: d.path })).toEqual(out("upper\n"));
    },
    SLOW,
  );

  test.concurrent.each<[string, string]>([
    ["\xff", "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"],
    ["ab\xc3(", "'utf-8' codec can't decode byte 0xc3 in position 2: invalid continuation byte"],
    ["a\xe2\x82", "'utf-8' codec can't decode bytes in position 1-2: unexpected end of data"],
    ["\xed\xa0\x80", "'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte"],
  ])("invalid UTF-8 on stdin %j is refused with Python's text", async (raw, text) => {
    using d = tempDir();
    const stdin = Uint8Array.from(raw, (c) => c.charCodeAt(0));
    expect(await runCli(["write", "q", "-"], { cwd: d.path, stdin })).toEqual({
      stdout: "",
      stderr: `simplebroker: error: ${text}\n`,
      exitCode: 1,
    });
    expect(await runCli(["broadcast", "-"], { cwd: d.path, stdin })).toEqual({
      stdout: "",
      stderr: `simplebroker: error: ${text}\n`,
      exitCode: 1,
    });
  });

  test.concurrent(
    "a byte-order mark on stdin is kept",
    async () => {
      using d = tempDir();
      expect(await runCli(["write", "q", "-"], { cwd: d.path, stdin: "\ufeffbom" })).toEqual(OK);
      // (--json: a BOM at the very start of stdout would be dropped by the test's UTF-8 decoding)
      expect(await runCli(["read", "q", "--json"], { cwd: d.path })).toEqual({
        stdout: expect.stringMatching(/^\{"message": "\ufeffbom", "timestamp": \d{19}\}\n$/),
        stderr: "",
        exitCode: 0,
      });
    },
    SLOW,
  );

  test.concurrent(
    "@alias writes to the target",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      expect(await runCli(["alias", "add", "in", "jobs"], { cwd })).toEqual(OK);
      expect(await runCli(["write", "@in", "via-alias"], { cwd })).toEqual(OK);
      expect(await runCli(["write", "in", "literal"], { cwd })).toEqual(OK);
      expect(await runCli(["list"], { cwd })).toEqual(out("in: 1\njobs: 1\n"));
    },
    SLOW,
  );
});

describe("broadcast", () => {
  test.concurrent(
    "targets existing queues (claimed-only too), in one go, each copy with its own id",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      expect(await runCli(["broadcast", "nobody"], { cwd })).toEqual(EMPTY);
      for (const [q, m] of [
        ["a", "1"],
        ["b", "2"],
        ["c.x", "3"],
      ])
        expect(await runCli(["write", q!, m!], { cwd })).toEqual(OK);
      expect(await runCli(["read", "c.x"], { cwd })).toEqual(out("3\n"));
      expect(await runCli(["broadcast", "all"], { cwd })).toEqual(OK);
      expect(await runCli(["list", "--stats"], { cwd })).toEqual(
        out("a: 2\nb: 2\nc.x: 1 (2 total, 1 claimed)\n\nTotal claimed messages: 1/6\n"),
      );
      const ids = new Set<string>();
      for (const q of ["a", "b", "c.x"]) {
        const r = await runCli(["peek", q, "--all", "-t"], { cwd });
        const last = r.stdout.trimEnd().split("\n").at(-1)!.split("\t");
        expect(last[1]).toBe("all");
        ids.add(last[0]!);
      }
      expect(ids.size).toBe(3);
      // Ids are assigned in ascending queue-name order.
      const sorted = [...ids].sort();
      expect([...ids]).toEqual(sorted);
    },
    SLOW,
  );

  test.concurrent(
    "pattern filter; no match exits 2; aliases are not targets",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      for (const q of ["jobs", "jobs.done", "mail"]) expect(await runCli(["write", q, "x"], { cwd })).toEqual(OK);
      expect(await runCli(["alias", "add", "j", "jobs"], { cwd })).toEqual(OK);
      expect(await runCli(["broadcast", "-p", "jobs*", "p1"], { cwd })).toEqual(OK);
      expect(await runCli(["broadcast", "--pattern", "?ail", "p2"], { cwd })).toEqual(OK);
      expect(await runCli(["broadcast", "--pattern=[!j]*", "p3"], { cwd })).toEqual(OK);
      expect(await runCli(["broadcast", "-p", "zzz*", "p4"], { cwd })).toEqual(EMPTY);
      expect(await runCli(["broadcast", "-p", "j", "p5"], { cwd })).toEqual(EMPTY);
      expect(await runCli(["broadcast", "-p", "JOBS", "p6"], { cwd })).toEqual(EMPTY);
      expect(await runCli(["peek", "jobs", "--all"], { cwd })).toEqual(out("x\np1\n"));
      expect(await runCli(["peek", "jobs.done", "--all"], { cwd })).toEqual(out("x\np1\n"));
      expect(await runCli(["peek", "mail", "--all"], { cwd })).toEqual(out("x\np2\np3\n"));
      expect(await runCli(["exists", "j"], { cwd })).toEqual(EMPTY);
    },
    SLOW,
  );

  test.concurrent(
    "broadcast - reads stdin",
    async () => {
      using d = tempDir();
      expect(await runCli(["write", "q", "x"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["broadcast", "-"], { cwd: d.path, stdin: "from\nstdin" })).toEqual(OK);
      expect(await runCli(["read", "q", "--all", "--json"], { cwd: d.path })).toMatchObject({
        stdout: expect.stringMatching(/\n\{"message": "from\\nstdin", "timestamp": \d{19}\}\n$/),
        exitCode: 0,
      });
    },
    SLOW,
  );
});
