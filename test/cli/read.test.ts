// Guards read / peek / move / delete selection and output beyond the golden
// transcript (docs/compatibility.md#output, #commands, #delivery): strict --after/--before bounds,
// -m on a claimed message (read/peek/delete 2, move 0 = revived), move --all
// with filters, exact JSON escaping, -t, and the newline warning only on the
// shared output path.
import { describe, expect, test } from "bun:test";
import { runCli, tempDir } from "../helpers.ts";

const OK = { stdout: "", stderr: "", exitCode: 0 };
const EMPTY = { stdout: "", stderr: "", exitCode: 2 };
const out = (stdout: string) => ({ stdout, stderr: "", exitCode: 0 });
const SLOW = 30_000;
const WARNING =
  "simplebroker: warning: Message contains newline characters which may break shell pipelines. Consider using --json for safe handling of special characters.\n";

/** Write the bodies to `queue` and return their ids, in order. */
async function seed(cwd: string, queue: string, bodies: string[]): Promise<string[]> {
  for (const b of bodies) expect(await runCli(["write", queue, b], { cwd })).toEqual(OK);
  const r = await runCli(["peek", queue, "--all", "--json"], { cwd });
  expect(r.exitCode).toBe(0);
  const rows = r.stdout
    .trimEnd()
    .split("\n")
    .map((l) => /"timestamp": (\d+)\}$/.exec(l)![1]!);
  return rows.slice(-bodies.length);
}

describe("--after / --before", () => {
  test.concurrent(
    "bounds are strict and combine to an open interval",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      const id = await seed(cwd, "q", ["m1", "m2", "m3", "m4", "m5"]);
      const peek = (...a: string[]) => runCli(["peek", "q", "--all", ...a], { cwd });
      expect(await peek("--after", id[1]!)).toEqual(out("m3\nm4\nm5\n"));
      expect(await peek("--before", id[3]!)).toEqual(out("m1\nm2\nm3\n"));
      expect(await peek("--after", id[1]!, "--before", id[3]!)).toEqual(out("m3\n"));
      expect(await peek("--after", id[4]!)).toEqual(EMPTY);
      expect(await peek("--after", id[3]!, "--before", id[1]!)).toEqual(EMPTY);
      expect(await peek("--after", "0")).toEqual(out("m1\nm2\nm3\nm4\nm5\n"));
      expect(await peek("--after", "1970-01-01")).toEqual(out("m1\nm2\nm3\nm4\nm5\n"));
      expect(await peek("--before", "2100-01-01T00:00:00Z")).toEqual(out("m1\nm2\nm3\nm4\nm5\n"));
      expect(await peek("--after", "4102444800s")).toEqual(EMPTY);
      expect(await peek("--before", "1s")).toEqual(EMPTY);
      // Without --all: the first match only.
      expect(await runCli(["peek", "q", "--after", id[1]!], { cwd })).toEqual(out("m3\n"));
      expect(await runCli(["read", "q", "--after", id[1]!], { cwd })).toEqual(out("m3\n"));
      expect(await runCli(["read", "q", "--before", id[1]!, "--json"], { cwd })).toEqual(
        out(`{"message": "m1", "timestamp": ${id[0]}}\n`),
      );
      expect(await peek()).toEqual(out("m2\nm4\nm5\n"));
    },
    SLOW,
  );

  test.concurrent(
    "move --all with filters moves only the matching pending messages, ids kept",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      const id = await seed(cwd, "src", ["m1", "m2", "m3", "m4", "m5"]);
      expect(await runCli(["read", "src", "-m", id[2]!], { cwd })).toEqual(out("m3\n"));
      expect(await runCli(["move", "src", "dst", "--all", "--after", id[0]!, "--before", id[4]!, "-t"], { cwd })).toEqual(
        out(`${id[1]}\tm2\n${id[3]}\tm4\n`),
      );
      expect(await runCli(["move", "src", "dst", "--all", "--after", id[4]!], { cwd })).toEqual(EMPTY);
      expect(await runCli(["peek", "src", "--all"], { cwd })).toEqual(out("m1\nm5\n"));
      expect(await runCli(["peek", "dst", "--all", "-t"], { cwd })).toEqual(out(`${id[1]}\tm2\n${id[3]}\tm4\n`));
      // A moved message interleaves by its original position in the destination.
      expect(await runCli(["move", "src", "dst"], { cwd })).toEqual(out("m1\n"));
      expect(await runCli(["peek", "dst", "--all"], { cwd })).toEqual(out("m1\nm2\nm4\n"));
      expect(await runCli(["move", "src", "dst", "--json"], { cwd })).toEqual(out(`{"message": "m5", "timestamp": ${id[4]}}\n`));
      expect(await runCli(["move", "src", "dst"], { cwd })).toEqual(EMPTY);
    },
    SLOW,
  );
});

describe("-m on a claimed message", () => {
  test.concurrent(
    "read/peek/delete exit 2; move revives it",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      const [a, b] = await seed(cwd, "q", ["a", "b"]);
      expect(await runCli(["read", "q"], { cwd })).toEqual(out("a\n"));
      expect(await runCli(["read", "q", "-m", a!], { cwd })).toEqual(EMPTY);
      expect(await runCli(["peek", "q", "-m", a!], { cwd })).toEqual(EMPTY);
      expect(await runCli(["delete", "q", "-m", a!], { cwd })).toEqual(EMPTY);
      expect(await runCli(["stats", "q"], { cwd })).toEqual(out("q: 1 (2 total, 1 claimed)\n"));
      expect(await runCli(["move", "q", "r", "-m", a!, "-t"], { cwd })).toEqual(out(`${a}\ta\n`));
      expect(await runCli(["stats", "q"], { cwd })).toEqual(out("q: 1\n"));
      expect(await runCli(["read", "r", "-t"], { cwd })).toEqual(out(`${a}\ta\n`));
      // Exact id in another queue, unknown ids, the zero id.
      expect(await runCli(["peek", "other", "-m", b!], { cwd })).toEqual(EMPTY);
      expect(await runCli(["move", "other", "r", "-m", b!], { cwd })).toEqual(EMPTY);
      expect(await runCli(["read", "q", "-m", "0000000000000000000"], { cwd })).toEqual(EMPTY);
      expect(await runCli(["delete", "q", "-m", "9223372036854775807"], { cwd })).toEqual(EMPTY);
      // delete -m claims (logical delete); a second time finds nothing.
      expect(await runCli(["delete", "q", "-m", b!], { cwd })).toEqual(OK);
      expect(await runCli(["delete", "q", "-m", b!], { cwd })).toEqual(EMPTY);
      expect(await runCli(["stats", "q"], { cwd })).toEqual(out("q: 0 (1 total, 1 claimed)\n"));
      expect(await runCli(["peek", "q"], { cwd })).toEqual(EMPTY);
    },
    SLOW,
  );

  test.concurrent(
    "delete <q> removes pending and claimed rows; delete --all everything; both exit 0",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      await seed(cwd, "a", ["1", "2"]);
      await seed(cwd, "b", ["3"]);
      expect(await runCli(["read", "a"], { cwd })).toEqual(out("1\n"));
      expect(await runCli(["delete", "a"], { cwd })).toEqual(OK);
      expect(await runCli(["exists", "a"], { cwd })).toEqual(EMPTY);
      expect(await runCli(["delete", "never"], { cwd })).toEqual(OK);
      expect(await runCli(["alias", "add", "x", "b"], { cwd })).toEqual(OK);
      expect(await runCli(["delete", "--all"], { cwd })).toEqual(OK);
      expect(await runCli(["list", "--stats"], { cwd })).toEqual(OK);
      expect(await runCli(["alias", "list"], { cwd })).toEqual(out("x -> b\n"));
    },
    SLOW,
  );
});

describe("output formats", () => {
  const body = 'c\u0001\b\f\n\r\t"\\é\u007f\u2028🚀\u001f';
  const escaped = 'c\\u0001\\b\\f\\n\\r\\t\\"\\\\é\u007f\u2028🚀\\u001f';

  test.concurrent(
    "JSON escapes control characters like Python and keeps non-ASCII raw",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      const [id] = await seed(cwd, "q", [body]);
      const json = out(`{"message": "${escaped}", "timestamp": ${id}}\n`);
      expect(await runCli(["peek", "q", "--json"], { cwd })).toEqual(json);
      expect(await runCli(["peek", "q", "--json", "-t"], { cwd })).toEqual(json);
      expect(await runCli(["peek", "q", "-t"], { cwd })).toEqual(out(`${id}\t${body}\n`));
      expect(await runCli(["read", "q"], { cwd })).toEqual(out(`${body}\n`));
    },
    SLOW,
  );

  test.concurrent(
    "stdin NUL bytes, the empty message and exactly-at-limit messages round-trip",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      expect(await runCli(["write", "q", "-"], { cwd, stdin: "a\0b\n" })).toEqual(OK);
      expect(await runCli(["write", "q", ""], { cwd })).toEqual(OK);
      expect(await runCli(["write", "q"], { cwd, stdin: "" })).toEqual(OK);
      expect(await runCli(["peek", "q", "--all", "--json"], { cwd })).toEqual({
        stdout: expect.stringMatching(
          /^\{"message": "a\\u0000b\\n", "timestamp": \d{19}\}\n\{"message": "", "timestamp": \d{19}\}\n\{"message": "", "timestamp": \d{19}\}\n$/,
        ),
        stderr: "",
        exitCode: 0,
      });
      expect(await runCli(["read", "q"], { cwd })).toEqual(out("a\0b\n\n"));
      expect(await runCli(["move", "q", "r"], { cwd })).toEqual(out("\n"));
      expect(await runCli(["read", "r", "--all"], { cwd })).toEqual(out("\n"));

      const env = { BROKER_MAX_MESSAGE_SIZE: "6" };
      expect(await runCli(["write", "lim", "ééé"], { cwd, env })).toEqual(OK);
      expect(await runCli(["write", "lim", "-"], { cwd, env, stdin: "123456" })).toEqual(OK);
      expect(await runCli(["broadcast", "-p", "lim", "abcdef"], { cwd, env })).toEqual(OK);
      expect(await runCli(["read", "lim", "--all"], { cwd, env })).toEqual(out("ééé\n123456\nabcdef\n"));
    },
    SLOW,
  );
});

describe("newline warning", () => {
  test.concurrent(
    "only on the shared path, once per command, never with --json or -t",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      const [first] = await seed(cwd, "q", ["a\nb", "c\nd", "plain"]);
      const warned = (stdout: string) => ({ stdout, stderr: WARNING, exitCode: 0 });
      expect(await runCli(["peek", "q"], { cwd })).toEqual(out("a\nb\n"));
      expect(await runCli(["peek", "q", "-m", first!], { cwd })).toEqual(out("a\nb\n"));
      expect(await runCli(["peek", "q", "--all"], { cwd })).toEqual(warned("a\nb\nc\nd\nplain\n"));
      expect(await runCli(["peek", "q", "--after", "0"], { cwd })).toEqual(warned("a\nb\n"));
      expect(await runCli(["peek", "q", "--before", "9223372036854775807"], { cwd })).toEqual(warned("a\nb\n"));
      expect(await runCli(["peek", "q", "--all", "--json"], { cwd })).toMatchObject({ stderr: "", exitCode: 0 });
      // 3.6.1 warns only for plain output: with -t (as with --json) it stays quiet.
      expect(await runCli(["peek", "q", "--all", "-t"], { cwd })).toMatchObject({ stderr: "", exitCode: 0 });
      expect(await runCli(["read", "q"], { cwd })).toEqual(out("a\nb\n"));
      expect(await runCli(["move", "q", "r"], { cwd })).toEqual(warned("c\nd\n"));
      expect(await runCli(["move", "q", "r"], { cwd })).toEqual(out("plain\n"));
      expect(await runCli(["read", "r", "--all"], { cwd })).toEqual(warned("c\nd\nplain\n"));
    },
    SLOW,
  );
});
