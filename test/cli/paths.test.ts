// Guards CLI path handling end to end (docs/compatibility.md#safe-paths, #target-resolution,
// --cleanup): `..` and shell metacharacters refused in -d/-f, symlink
// escapes from -d refused, -d checks, absolute -f vs -d, the one-missing-level
// parent rule (docs/compatibility.md#q23-grandparent-directory-check), explicit -d beats BROKER_DEFAULT_DB_LOCATION (#q14-explicit-dir-wins),
// 0600 on new files, and --cleanup refusing files that are not ours.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

const OK = { stdout: "", stderr: "", exitCode: 0 };
const SLOW = 30_000;
const err = (text: string) => ({ stdout: "", stderr: `simplebroker: error: ${text}\n`, exitCode: 1 });
const dangerous = (context: string, c: string, path: string) =>
  `${context} contains dangerous character '${c}': ${path}. Path components must not contain shell metacharacters or control characters.`;

describe("unsafe -d / -f", () => {
  test.concurrent.each<[string[], string]>([
    [["-f", "../x.db"], "Database filename must not contain parent directory references: ../x.db"],
    [["-f", "a/../x.db"], "Database filename must not contain parent directory references: a/../x.db"],
    [["-f", "./x.db"], "Database filename must not contain current directory references: ./x.db"],
    [["-d", "sub/.."], "Directory argument (-d/--dir) must not contain parent directory references: sub/.."],
    [["-f", "a;b.db"], dangerous("Database filename", ";", "a;b.db")],
    [["-f", "x|y"], dangerous("Database filename", "|", "x|y")],
    [["-f", "$HOME.db"], dangerous("Database filename", "$", "$HOME.db")],
    [["-f", "a b`.db"], dangerous("Database filename", "`", "a b`.db")],
    [["-d", "sub$x"], dangerous("Directory argument (-d/--dir)", "$", "sub$x")],
    [["-d", "a&b"], dangerous("Directory argument (-d/--dir)", "&", "a&b")],
    [["-d", "~"], dangerous("Directory argument (-d/--dir)", "~", "~")],
    [["-f", "x\ty.db"], dangerous("Database filename", "\t", "x\ty.db")],
  ])(
    "%j is refused",
    async (flags, text) => {
      using d = tempDir();
      mkdirSync(join(d.path, "sub"));
      expect(await runCli([...flags, "write", "q", "m"], { cwd: d.path })).toEqual(err(text));
      expect(readdirSync(d.path)).toEqual(["sub"]);
    },
    30_000,
  ); // a dozen CLI subprocesses at once on a loaded 2-core machine
});

describe("symlinks and directories", () => {
  test.concurrent(
    "a symlink in -f pointing outside -d is refused; inside is allowed",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      mkdirSync(join(cwd, "sub/inner"), { recursive: true });
      mkdirSync(join(cwd, "out"));
      symlinkSync(join(cwd, "out/escape.db"), join(cwd, "sub/escape.db"));
      symlinkSync("../out", join(cwd, "sub/outdir"));
      symlinkSync("inner/real.db", join(cwd, "sub/inside.db"));
      const refused = err("Database file must be within the working directory");
      expect(await runCli(["-d", "sub", "-f", "escape.db", "write", "q", "m"], { cwd })).toEqual(refused);
      expect(await runCli(["-d", "sub", "-f", "outdir/x.db", "write", "q", "m"], { cwd })).toEqual(refused);
      expect(readdirSync(join(cwd, "out"))).toEqual([]);
      expect(await runCli(["-d", "sub", "-f", "inside.db", "write", "q", "m"], { cwd })).toEqual(OK);
      expect(existsSync(join(cwd, "sub/inner/real.db"))).toBe(true);
      expect(await runCli(["-d", "sub", "-f", "inner/real.db", "read", "q"], { cwd })).toEqual({
        stdout: "m\n",
        stderr: "",
        exitCode: 0,
      });
      // An absolute -f may go through symlinks.
      expect(await runCli(["-f", join(cwd, "sub/outdir/abs.db"), "write", "q", "m"], { cwd })).toEqual(OK);
      expect(existsSync(join(cwd, "out/abs.db"))).toBe(true);
    },
    SLOW,
  );

  test.concurrent(
    "-d missing, -d a file, absolute -f with another -d",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      writeFileSync(join(cwd, "afile"), "x");
      mkdirSync(join(cwd, "one"));
      mkdirSync(join(cwd, "two"));
      expect(await runCli(["-d", "nope", "write", "q", "m"], { cwd })).toEqual(err("Directory not found: nope"));
      expect(await runCli(["-d", join(cwd, "nope"), "list"], { cwd })).toEqual(err(`Directory not found: ${join(cwd, "nope")}`));
      expect(await runCli(["-d", "afile", "write", "q", "m"], { cwd })).toEqual(err("Path is a file, not a directory: afile"));
      const abs = join(cwd, "one/x.db");
      expect(await runCli(["-d", "two", "-f", abs, "write", "q", "m"], { cwd })).toEqual(
        err(`Inconsistent paths: absolute database path '${abs}' conflicts with directory 'two'`),
      );
      expect(await runCli(["-d", "one", "-f", abs, "write", "q", "m"], { cwd })).toEqual(OK);
      expect(await runCli(["-f", abs, "read", "q"], { cwd })).toEqual({ stdout: "m\n", stderr: "", exitCode: 0 });
    },
    SLOW,
  );

  test.concurrent(
    "-f newdir/x.db creates one missing level; -f a/b/c.db fails (Q23)",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      expect(await runCli(["-f", "newdir/x.db", "write", "q", "m"], { cwd })).toEqual(OK);
      expect(existsSync(join(cwd, "newdir/x.db"))).toBe(true);
      expect(await runCli(["-f", "a/b/c.db", "write", "q", "m"], { cwd })).toEqual(
        err(`Parent directory not found: ${join(cwd, "a")}`),
      );
      expect(existsSync(join(cwd, "a"))).toBe(false);
    },
    SLOW,
  );

  test.concurrent(
    "explicit -d beats BROKER_DEFAULT_DB_LOCATION (Q14 fixed); without -d the env wins",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      mkdirSync(join(cwd, "flag"));
      mkdirSync(join(cwd, "env"));
      const env = { BROKER_DEFAULT_DB_LOCATION: join(cwd, "env") };
      expect(await runCli(["-d", "flag", "write", "q", "via-flag"], { cwd, env })).toEqual(OK);
      expect(await runCli(["write", "q", "via-env"], { cwd, env })).toEqual(OK);
      expect(await runCli(["-d", "flag", "read", "q"], { cwd })).toEqual({ stdout: "via-flag\n", stderr: "", exitCode: 0 });
      expect(await runCli(["-d", "env", "read", "q"], { cwd })).toEqual({ stdout: "via-env\n", stderr: "", exitCode: 0 });
      expect(existsSync(join(cwd, ".broker.db"))).toBe(false);
    },
    SLOW,
  );

  test.concurrent(
    "a new database file is created with mode 0600",
    async () => {
      using d = tempDir();
      expect(await runCli(["write", "q", "m"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["-f", "other.db", "init"], { cwd: d.path })).toEqual({
        stdout: "",
        stderr: `SimpleBroker database already exists: ${join(d.path, ".broker.db")}\n`,
        exitCode: 0,
      });
      expect(statSync(join(d.path, ".broker.db")).mode & 0o777).toBe(0o600);
      mkdirSync(join(d.path, "i"));
      expect(await runCli(["init"], { cwd: join(d.path, "i") })).toEqual({
        stdout: "",
        stderr: `Initialized SimpleBroker database: ${join(d.path, "i/.broker.db")}\n`,
        exitCode: 0,
      });
      expect(statSync(join(d.path, "i/.broker.db")).mode & 0o777).toBe(0o600);
    },
    SLOW,
  );
});

describe("--cleanup", () => {
  test.concurrent(
    "deletes our database, then reports nothing to clean",
    async () => {
      using d = tempDir();
      const db = join(d.path, ".broker.db");
      expect(await runCli(["write", "q", "m"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["--cleanup"], { cwd: d.path })).toEqual({
        stdout: "",
        stderr: `Database cleaned up: ${db}\n`,
        exitCode: 0,
      });
      expect(existsSync(db)).toBe(false);
      expect(await runCli(["--cleanup"], { cwd: d.path })).toEqual({
        stdout: "",
        stderr: `Database not found, nothing to clean up: ${db}\n`,
        exitCode: 0,
      });
      expect(await runCli(["-q", "--cleanup"], { cwd: d.path })).toEqual(OK);
    },
    SLOW,
  );

  test.concurrent(
    "refuses a plain file, a foreign SQLite file and a wrong magic; keeps them",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      writeFileSync(join(cwd, "plain.txt"), "hello\n");
      const foreign = new Database(join(cwd, "foreign.db"), { create: true });
      foreign.run("CREATE TABLE t (x)");
      foreign.close();
      const wrong = new Database(join(cwd, "wrong.db"), { create: true });
      wrong.run("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
      wrong.run("INSERT INTO meta VALUES ('magic', 'other')");
      wrong.close();

      expect(await runCli(["-f", "plain.txt", "--cleanup"], { cwd })).toEqual(
        err(`File is not a valid SQLite database (invalid header): ${join(cwd, "plain.txt")}`),
      );
      expect(await runCli(["-f", "foreign.db", "--cleanup"], { cwd })).toEqual(
        err(`Database is missing SimpleBroker metadata: ${join(cwd, "foreign.db")}`),
      );
      expect(await runCli(["-f", "wrong.db", "--cleanup"], { cwd })).toEqual(
        err(`Database has incorrect magic string (not a SimpleBroker database): ${join(cwd, "wrong.db")}`),
      );
      expect(await runCli(["-q", "-f", "wrong.db", "--cleanup"], { cwd })).toEqual(
        err(`Database has incorrect magic string (not a SimpleBroker database): ${join(cwd, "wrong.db")}`),
      );
      expect(readFileSync(join(cwd, "plain.txt"), "utf8")).toBe("hello\n");
      expect(existsSync(join(cwd, "foreign.db"))).toBe(true);
      expect(existsSync(join(cwd, "wrong.db"))).toBe(true);
    },
    SLOW,
  );

  test.concurrent(
    "reading commands on a non-SQLite file fail and keep it (JSON error with --json)",
    async () => {
      using d = tempDir();
      const cwd = d.path;
      writeFileSync(join(cwd, "plain.txt"), "hello\n");
      // Only the substring is pinned: 3.6.1 wraps this text in another error message.
      expect(await runCli(["-f", "plain.txt", "list"], { cwd })).toEqual({
        stdout: "",
        stderr: expect.stringMatching(/^simplebroker: error: .*not a valid SQLite database.*\n$/),
        exitCode: 1,
      });
      expect(await runCli(["-f", "plain.txt", "list", "--json"], { cwd })).toEqual({
        stdout: "",
        stderr: expect.stringMatching(
          /^\{"error": "ERROR", "message": ".*not a valid SQLite database.*", "retryable": false\}\n$/,
        ),
        exitCode: 1,
      });
      expect(await runCli(["-f", "plain.txt", "peek", "q"], { cwd })).toMatchObject({ stdout: "", exitCode: 1 });
      expect(await runCli(["-f", "plain.txt", "write", "q", "m"], { cwd })).toMatchObject({ stdout: "", exitCode: 1 });
      expect(readFileSync(join(cwd, "plain.txt"), "utf8")).toBe("hello\n");
    },
    SLOW,
  );

  test.concurrent(
    "a command given with --cleanup is ignored (Q13 replicated)",
    async () => {
      using d = tempDir();
      expect(await runCli(["write", "q", "m"], { cwd: d.path })).toEqual(OK);
      expect(await runCli(["--cleanup", "write", "q", "n"], { cwd: d.path })).toEqual({
        stdout: "",
        stderr: `Database cleaned up: ${join(d.path, ".broker.db")}\n`,
        exitCode: 0,
      });
      expect(existsSync(join(d.path, ".broker.db"))).toBe(false);
    },
    SLOW,
  );
});
