/**
 * Guards the CLI against bad input (docs/compatibility.md: exit codes, paths, input limits,
 * timestamps and ids, quirks Q3/Q4/Q8/Q10/Q11/Q21): table-driven cases, each asserting the exit
 * status (1, or 2 where 3.6.1 gives 2), exactly one `simplebroker: error:`
 * line on stderr (or none where 3.6.1 is silent), empty
 * stdout, and a byte-identical database file afterwards whenever the case
 * targets an existing database. Covers queue names, message sizes, stdin
 * encoding, timestamps and `-m` ids, corrupt / truncated / foreign / newer /
 * zero-byte database files, read-only mounts, a database locked past the
 * busy timeout, symlink escapes, shell metacharacters in paths, a closed
 * stdout and a full disk.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { CLI, runCli, tempDir, type CliResult } from "../helpers.ts";

const DB = ".broker.db";
const LOCK_FIXTURE = resolve(import.meta.dir, "../fixtures/stress-lock-fixture.ts");
const NAME_RULE =
  "Invalid queue name: must contain only letters, numbers, periods, underscores, and hyphens. Cannot begin with a hyphen or a period";
const METACHAR_TAIL = "Path components must not contain shell metacharacters or control characters.";
const MIB10 = 10 * 1024 * 1024;

const root = tempDir("sb-bad-");
let template = "";
let caseNo = 0;
const mounts: string[] = [];

beforeAll(async () => {
  const dir = join(root.path, "template");
  mkdirSync(dir);
  for (const m of ["one", "two", "three"]) expect((await runCli(["write", "q", m], { cwd: dir })).exitCode).toBe(0);
  template = join(dir, DB);
});

afterAll(() => {
  for (const m of mounts.reverse()) Bun.spawnSync(["umount", "-l", m]);
  root[Symbol.dispose]();
});

function sha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

/** A fresh directory holding a copy of the template database. */
function caseDir(withDb = true): string {
  const dir = join(root.path, `case${caseNo++}`);
  mkdirSync(dir);
  if (withDb) copyFileSync(template, join(dir, DB));
  return dir;
}

function edit(path: string, sql: string[]): void {
  const db = new Database(path, { readwrite: true });
  for (const s of sql) db.run(s);
  db.close();
}

function overwrite(path: string, offset: number, length: number, byte = 0xa5): void {
  const fd = openSync(path, "r+");
  writeSync(fd, Buffer.alloc(length, byte), 0, length, offset);
  closeSync(fd);
}

function pageOf(path: string, table: string): number {
  const db = new Database(path, { readonly: true });
  const row = db.query("SELECT rootpage FROM sqlite_master WHERE name = ?").get(table) as { rootpage: number };
  db.close();
  return Number(row.rootpage);
}

function pending(dir: string, file = DB): string[] {
  const db = new Database(join(dir, file), { readonly: true });
  const rows = db.query("SELECT body FROM messages WHERE claimed = 0 ORDER BY id").all() as { body: string }[];
  db.close();
  return rows.map((r) => r.body);
}

/** Try a mount command; false (with the reason) when this environment does not permit it. */
function tryMount(args: string[], target: string): { ok: true } | { ok: false; reason: string } {
  const r = Bun.spawnSync(["mount", ...args, target], { stderr: "pipe" });
  if (r.exitCode !== 0) return { ok: false, reason: `mount ${args.join(" ")} failed: ${r.stderr.toString().trim()}` };
  mounts.push(target);
  return { ok: true };
}

function unmount(target: string): void {
  Bun.spawnSync(["umount", target]);
  const i = mounts.indexOf(target);
  if (i >= 0) mounts.splice(i, 1);
}

/** Bind-mount `target` onto itself read-only. */
function readOnlyBind(target: string): { ok: true } | { ok: false; reason: string } {
  const bind = tryMount(["--bind", target], target);
  if (!bind.ok) return bind;
  const r = Bun.spawnSync(["mount", "-o", "remount,ro,bind", target], { stderr: "pipe" });
  if (r.exitCode !== 0) {
    unmount(target);
    return { ok: false, reason: `remount,ro,bind failed: ${r.stderr.toString().trim()}` };
  }
  return { ok: true };
}

// --- the table ---

interface Case {
  name: string;
  /** CLI arguments; run in the case directory, whose `.broker.db` is the target unless `-f`/`-d` say otherwise. */
  args: string[];
  stdin?: string | Uint8Array;
  env?: Record<string, string>;
  /** Prepare the directory (default: a copy of the template database). */
  setup?: (dir: string) => void;
  /** Start without any database file. */
  noDb?: boolean;
  exit: 0 | 1 | 2;
  /** The one stderr line (exact text after `simplebroker: error: `, or a pattern); null: stderr must be empty. */
  stderr: string | RegExp | null;
  /** The file whose bytes must not change (default `.broker.db` when it exists before the run). */
  watch?: string;
  /** Extra checks after the run. */
  after?: (dir: string, r: CliResult) => void | Promise<void>;
  timeout?: number;
}

const cases: Case[] = [];
const add = (...c: Case[]) => cases.push(...c);
const err = (text: string) => `simplebroker: error: ${text}`;

// Queue names (docs/compatibility.md#input-limits): empty, too long, each forbidden character, leading '-'/'.', trailing newline.
add(
  { name: "queue name: empty", args: ["write", "", "m"], exit: 1, stderr: err("Invalid queue name: cannot be empty") },
  {
    name: "queue name: 513 characters",
    args: ["write", "a".repeat(513), "m"],
    exit: 1,
    stderr: err("Invalid queue name: exceeds 512 characters"),
  },
  { name: "queue name: leading hyphen", args: ["write", "-abc", "m"], exit: 1, stderr: err(NAME_RULE) },
  { name: "queue name: leading period", args: ["write", ".abc", "m"], exit: 1, stderr: err(NAME_RULE) },
  { name: "queue name: trailing newline (Q4 fixed)", args: ["write", "abc\n", "m"], exit: 1, stderr: err(NAME_RULE) },
  { name: "queue name: non-ASCII letter", args: ["write", "é", "m"], exit: 1, stderr: err(NAME_RULE) },
  { name: "queue name: invalid on read", args: ["read", "a b"], exit: 1, stderr: err(NAME_RULE) },
  { name: "queue name: invalid move destination", args: ["move", "q", "x/y"], exit: 1, stderr: err(NAME_RULE) },
  { name: "queue name: bare @", args: ["write", "@", "m"], exit: 1, stderr: err("Alias name cannot be empty") },
  { name: "queue name: undefined alias", args: ["read", "@nope"], exit: 1, stderr: err("Alias 'nope' is not defined") },
);
for (const ch of [
  ":",
  "@",
  "!",
  "#",
  "$",
  "%",
  "^",
  "&",
  "*",
  "+",
  "=",
  "{",
  "}",
  "[",
  "]",
  "|",
  "?",
  "<",
  ">",
  ";",
  " ",
  "/",
  "\\",
  ",",
  "'",
  '"',
  "`",
  "~",
  "(",
  ")",
  "\t",
]) {
  add({ name: `queue name: forbidden ${JSON.stringify(ch)}`, args: ["write", `a${ch}b`, "m"], exit: 1, stderr: err(NAME_RULE) });
}

// Message sizes at and over the limit (docs/compatibility.md#input-limits): argument and stdin, byte-based.
const small = { BROKER_MAX_MESSAGE_SIZE: "16" };
add(
  {
    name: "size: argument exactly at the limit is accepted",
    args: ["write", "q", "x".repeat(16)],
    env: small,
    exit: 0,
    stderr: null,
    watch: "",
    after: (dir) => expect(pending(dir).at(-1)).toBe("x".repeat(16)),
  },
  {
    name: "size: 8 two-byte characters (16 bytes) accepted",
    args: ["write", "q", "é".repeat(8)],
    env: small,
    exit: 0,
    stderr: null,
    watch: "",
    after: (dir) => expect(pending(dir).at(-1)).toBe("é".repeat(8)),
  },
  {
    name: "size: argument one byte over",
    args: ["write", "q", "x".repeat(17)],
    env: small,
    exit: 1,
    stderr: err("Message exceeds maximum size of 16 bytes"),
  },
  {
    name: "size: argument over by multi-byte characters",
    args: ["write", "q", "é".repeat(8) + "x"],
    env: small,
    exit: 1,
    stderr: err("Message exceeds maximum size of 16 bytes"),
  },
  {
    name: "size: broadcast argument over",
    args: ["broadcast", "x".repeat(17)],
    env: small,
    exit: 1,
    stderr: err("Message exceeds maximum size of 16 bytes"),
  },
  {
    name: "size: stdin exactly at the limit is accepted",
    args: ["write", "q"],
    stdin: "y".repeat(16),
    env: small,
    exit: 0,
    stderr: null,
    watch: "",
    after: (dir) => expect(pending(dir).at(-1)).toBe("y".repeat(16)),
  },
  {
    name: "size: stdin one byte over",
    args: ["write", "q"],
    stdin: "y".repeat(17),
    env: small,
    exit: 1,
    stderr: err("Input exceeds maximum size of 16 bytes"),
  },
  {
    name: "size: stdin '-' over by multi-byte characters",
    args: ["write", "q", "-"],
    stdin: "ü".repeat(9),
    env: small,
    exit: 1,
    stderr: err("Input exceeds maximum size of 16 bytes"),
  },
  {
    name: "size: stdin of exactly 10 MiB (default limit) is accepted",
    args: ["write", "big"],
    stdin: "z".repeat(MIB10),
    exit: 0,
    stderr: null,
    watch: "",
    after: (dir) => {
      const db = new Database(join(dir, DB), { readonly: true });
      const row = db.query("SELECT length(body) AS n FROM messages WHERE queue = 'big'").get() as { n: number };
      db.close();
      expect(row.n).toBe(MIB10);
    },
    timeout: 30_000,
  },
  {
    name: "size: stdin of 10 MiB + 1 byte is rejected",
    args: ["write", "big"],
    stdin: "z".repeat(MIB10 + 1),
    exit: 1,
    stderr: err(`Input exceeds maximum size of ${MIB10} bytes`),
    timeout: 30_000,
  },
);

// stdin encoding: strict UTF-8 with Python's error texts; NUL is data.
const utf8Error = (detail: string) => err(`'utf-8' codec can't decode ${detail}`);
add(
  {
    name: "stdin: invalid start byte 0xff",
    args: ["write", "q"],
    stdin: new Uint8Array([0xff]),
    exit: 1,
    stderr: utf8Error("byte 0xff in position 0: invalid start byte"),
  },
  {
    name: "stdin: lone continuation byte",
    args: ["write", "q"],
    stdin: new Uint8Array([0x61, 0x80]),
    exit: 1,
    stderr: utf8Error("byte 0x80 in position 1: invalid start byte"),
  },
  {
    name: "stdin: overlong encoding 0xc0 0xaf",
    args: ["write", "q"],
    stdin: new Uint8Array([0xc0, 0xaf]),
    exit: 1,
    stderr: utf8Error("byte 0xc0 in position 0: invalid start byte"),
  },
  {
    name: "stdin: bad continuation byte",
    args: ["write", "q"],
    stdin: new Uint8Array([0xe2, 0x28, 0xa1]),
    exit: 1,
    stderr: utf8Error("byte 0xe2 in position 0: invalid continuation byte"),
  },
  {
    name: "stdin: UTF-16 surrogate encoded in UTF-8",
    args: ["write", "q"],
    stdin: new Uint8Array([0x61, 0xed, 0xa0, 0x80]),
    exit: 1,
    stderr: utf8Error("byte 0xed in position 1: invalid continuation byte"),
  },
  {
    name: "stdin: truncated sequence at the end",
    args: ["write", "q"],
    stdin: new Uint8Array([0x61, 0x62, 0xe2, 0x82]),
    exit: 1,
    stderr: utf8Error("bytes in position 2-3: unexpected end of data"),
  },
  {
    name: "stdin: broadcast with invalid UTF-8",
    args: ["broadcast", "-"],
    stdin: new Uint8Array([0xfe, 0x41]),
    exit: 1,
    stderr: utf8Error("byte 0xfe in position 0: invalid start byte"),
  },
  {
    name: "stdin: NUL bytes are accepted and round-trip",
    args: ["write", "nul"],
    stdin: new Uint8Array([0x61, 0x00, 0x62, 0x00]),
    exit: 0,
    stderr: null,
    watch: "",
    after: async (dir) => {
      const r = await runCli(["read", "nul", "--json"], { cwd: dir });
      expect(r.stdout).toMatch(/^\{"message": "a\\u0000b\\u0000", "timestamp": \d{19}\}\n$/);
      expect(r.exitCode).toBe(0);
    },
  },
);

// Malformed timestamps (docs/compatibility.md#timestamp-grammar; #q3-scientific-notation for plain words) on every option that takes one.
const badTimestamps: Array<[string, string]> = [
  ["1e10", "scientific notation not supported"],
  ["1.5E+9", "scientific notation not supported"],
  ["1.5e9", "scientific notation not supported"],
  ["garbage", "garbage"],
  ["-1000", "cannot be negative"],
  ["-1000s", "cannot be negative"],
  ["-1000ms", "cannot be negative"],
  ["2024-13-01", "2024-13-01"],
  ["2024-01", "2024-01"],
  ["2024-015", "2024-015"],
  ["2024-1-5", "2024-1-5"],
  ["2024-01-15T24:00:00", "2024-01-15T24:00:00"],
  ["2024-01-15T14:30:00z", "2024-01-15T14:30:00z"],
  ["12:30", "12:30"],
  ["now", "now"],
  ["abc", "abc"],
  ["T", "T"],
  ["", "empty string"],
  ["   ", "empty string"],
  ["9999999999999999999ns", "too far in future"],
  ["9999999999999999ms", "too far in future"],
  ["9223372036854775808", "exceeds maximum value"],
  ["9999999999999999999", "exceeds maximum value"],
  ["123456789012345678901234", "exceeds maximum value"],
  ["99999999999", "99999999999"],
  ["17592186044415", "17592186044415"],
];
badTimestamps.forEach(([value, detail], i) => {
  const where = [
    ["read", "q", `--after=${value}`],
    ["peek", "q", "--all", `--before=${value}`],
    ["move", "q", "r", `--after=${value}`],
  ][i % 3]!;
  add({
    name: `timestamp: ${where[0]} ${JSON.stringify(value)}`,
    args: where,
    exit: 1,
    stderr: err(`Invalid timestamp: ${detail}`),
  });
});
add(
  {
    name: "timestamp: --json error form",
    args: ["read", "q", "--after", "1e10", "--json"],
    exit: 1,
    stderr:
      '{"error": "INVALID_TIMESTAMP", "message": "Invalid timestamp: scientific notation not supported", "retryable": false}',
  },
  {
    name: "timestamp: watch --after rejected before watching",
    args: ["watch", "q", "--after", "now"],
    exit: 1,
    stderr: err("Invalid timestamp: now"),
  },
  {
    name: "timestamp: missing value",
    args: ["read", "q", "--after"],
    exit: 1,
    stderr: err("argument --after: expected one argument"),
  },
);

// -m forms (docs/compatibility.md#message-id-grammar; the plain error line is printed, #q10-invalid-message-id-is-reported;
// delete with an id >= 2^63 exits 2 silently, #q11-delete-id-above-2-63).
const idDigits = err("invalid message ID: expected exactly 19 digits");
add(
  { name: "-m: too short", args: ["read", "q", "-m", "123"], exit: 1, stderr: idDigits },
  { name: "-m: 20 digits", args: ["peek", "q", "-m", "12345678901234567890"], exit: 1, stderr: idDigits },
  { name: "-m: trailing letter", args: ["read", "q", "-m", "123456789012345678a"], exit: 1, stderr: idDigits },
  { name: "-m: word", args: ["peek", "q", "-m", "invalid"], exit: 1, stderr: idDigits },
  { name: "-m: empty", args: ["read", "q", "-m", ""], exit: 1, stderr: idDigits },
  { name: "-m: surrounding space", args: ["read", "q", "-m", " 1837025672140161024"], exit: 1, stderr: idDigits },
  {
    name: "-m: in format but >= 2^63",
    args: ["read", "q", "-m", "9999999999999999999"],
    exit: 1,
    stderr: err("invalid message ID: expected exactly 19 digits within range"),
  },
  { name: "-m: delete with a bad id", args: ["delete", "q", "-m", "abc"], exit: 1, stderr: idDigits },
  { name: "-m: delete with an id >= 2^63 (Q11)", args: ["delete", "q", "-m", "9999999999999999999"], exit: 2, stderr: null },
  { name: "-m: move with a bad id", args: ["move", "q", "r", "-m", "x"], exit: 1, stderr: idDigits },
  {
    name: "-m: --json error form",
    args: ["peek", "q", "-m", "abc", "--json"],
    exit: 1,
    stderr: '{"error": "INVALID_MESSAGE_ID", "message": "invalid message ID: expected exactly 19 digits", "retryable": false}',
  },
  {
    name: "-m: with --all",
    args: ["read", "q", "--all", "-m", "1837025672140161024"],
    exit: 1,
    stderr: err("--message cannot be used with --all, --after, or --before"),
  },
);

// Database files that are not ours or are damaged: opening must refuse (1) and leave the file alone.
type Maker = (path: string) => void;
const makers: Array<[string, Maker, RegExp]> = [
  ["plain text file", (p) => writeFileSync(p, "this is not a database, just some text\n"), /not a valid SQLite database/],
  [
    "10-byte file (truncated header)",
    (p) => writeFileSync(p, readFileSync(template).subarray(0, 10)),
    /not a valid SQLite database/,
  ],
  [
    "wrong magic bytes in the header",
    (p) => {
      copyFileSync(template, p);
      overwrite(p, 0, 16, 0x42);
    },
    /not a valid SQLite database/,
  ],
  [
    "foreign SQLite file with a table",
    (p) => {
      rmSync(p);
      const db = new Database(p, { create: true });
      db.run("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
      db.run("INSERT INTO users (name) VALUES ('ada')");
      db.close();
    },
    /^simplebroker: error: Database is missing SimpleBroker metadata: .*$/,
  ],
  [
    "SimpleBroker tables with a different meta.magic",
    (p) => {
      copyFileSync(template, p);
      edit(p, ["UPDATE meta SET value = 'other-v1' WHERE key = 'magic'"]);
    },
    /^simplebroker: error: Database magic string mismatch\. Expected 'simplebroker-v1', found 'other-v1'\. This database may not be a SimpleBroker database\.$/,
  ],
  [
    "schema_version 5",
    (p) => {
      copyFileSync(template, p);
      edit(p, ["UPDATE meta SET value = 5 WHERE key = 'schema_version'"]);
    },
    /^simplebroker: error: Database schema version 5 is newer than supported version 4\. Please upgrade SimpleBroker\.$/,
  ],
  [
    "corrupt messages b-tree page",
    (p) => {
      copyFileSync(template, p);
      overwrite(p, (pageOf(p, "messages") - 1) * 4096, 4096);
    },
    /database disk image is malformed/,
  ],
  [
    "corrupt schema page",
    (p) => {
      copyFileSync(template, p);
      overwrite(p, 100, 4096 - 100);
    },
    /malformed/,
  ],
  [
    "truncated to two pages",
    (p) => {
      copyFileSync(template, p);
      truncateSync(p, 8192);
    },
    /malformed/,
  ],
];
for (const [label, make, pattern] of makers) {
  for (const args of [["write", "q", "x"], ["read", "q"], ["list"]]) {
    add({ name: `db file: ${label}: ${args[0]}`, args, setup: (dir) => make(join(dir, DB)), exit: 1, stderr: pattern });
  }
}
add(
  {
    name: "db file: a directory where the file should be",
    args: ["-f", "dbdir", "write", "q", "x"],
    setup: (dir) => mkdirSync(join(dir, "dbdir")),
    exit: 1,
    stderr: /^simplebroker: error: Path exists but is not a regular file: .*dbdir$/,
  },
  {
    // A zero-byte file is a new database, so write initialises it (docs/on-disk-format.md#recognition).
    name: "db file: zero bytes, write initialises it",
    args: ["write", "q", "first"],
    setup: (dir) => writeFileSync(join(dir, DB), ""),
    exit: 0,
    stderr: null,
    watch: "",
    after: (dir) => {
      expect(pending(dir)).toEqual(["first"]);
      const db = new Database(join(dir, DB), { readonly: true });
      const keys = (db.query("SELECT key FROM meta ORDER BY key").all() as { key: string }[]).map((r) => r.key);
      const mode = (db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode;
      db.close();
      expect(keys).toEqual(["alias_version", "last_ts", "magic", "schema_version"]);
      expect(mode).toBe("wal");
    },
  },
  {
    // read/peek/exists/move/list/stats validate an existing file first, header check (docs/compatibility.md#safe-paths).
    name: "db file: zero bytes, read refuses and leaves it empty",
    args: ["read", "q"],
    setup: (dir) => writeFileSync(join(dir, DB), ""),
    exit: 1,
    stderr: /^simplebroker: error: .*not a valid SQLite database.*$/,
    after: (dir) => expect(readFileSync(join(dir, DB)).length).toBe(0),
  },
  {
    name: "db file: zero bytes, peek refuses",
    args: ["peek", "q"],
    setup: (dir) => writeFileSync(join(dir, DB), ""),
    exit: 1,
    stderr: /not a valid SQLite database/,
  },
);

// Symlink escapes and paths with shell metacharacters (docs/compatibility.md#safe-paths).
add(
  {
    name: "path: -f symlink pointing outside the directory",
    args: ["-f", "link.db", "write", "q", "x"],
    setup: (dir) => {
      mkdirSync(join(dir, "outside"));
      mkdirSync(join(dir, "work"));
      copyFileSync(template, join(dir, "outside", "target.db"));
      symlinkSync(join(dir, "outside", "target.db"), join(dir, "work", "link.db"));
    },
    noDb: true,
    exit: 1,
    stderr: err("Database file must be within the working directory"),
    watch: "outside/target.db",
  },
  {
    name: "path: -f through a symlinked directory outside",
    args: ["-f", "sub/x.db", "write", "q", "x"],
    setup: (dir) => {
      mkdirSync(join(dir, "outside"));
      mkdirSync(join(dir, "work"));
      symlinkSync(join(dir, "outside"), join(dir, "work", "sub"));
    },
    noDb: true,
    exit: 1,
    stderr: err("Database file must be within the working directory"),
    after: (dir) => expect(readdirSync(join(dir, "outside"))).toEqual([]),
  },
  {
    name: "path: -f with a parent reference",
    args: ["-f", "../x.db", "write", "q", "m"],
    exit: 1,
    stderr: err("Database filename must not contain parent directory references: ../x.db"),
  },
  {
    name: "path: -f with a current-directory reference",
    args: ["-f", "./x.db", "write", "q", "m"],
    exit: 1,
    stderr: err("Database filename must not contain current directory references: ./x.db"),
  },
  {
    name: "path: -d that does not exist",
    args: ["-d", "missing", "write", "q", "m"],
    exit: 1,
    stderr: err("Directory not found: missing"),
  },
  {
    name: "path: -d that is a file",
    args: ["-d", DB, "read", "q"],
    exit: 1,
    stderr: err(`Path is a file, not a directory: ${DB}`),
  },
);
for (const ch of [";", "|", "&", "$", "`", "(", ")", "<", ">", "*", "?", "~", "!", "#", "'", '"', "{", "[", "^"]) {
  add({
    name: `path: -d with ${JSON.stringify(ch)}`,
    args: ["-d", `x${ch}y`, "write", "q", "m"],
    exit: 1,
    stderr: err(`Directory argument (-d/--dir) contains dangerous character '${ch}': x${ch}y. ${METACHAR_TAIL}`),
  });
}
for (const name of ["a;rm -rf b.db", "a$(id).db", "q|x.db", "a\tb.db"]) {
  const ch = [...name].find((c) => ";$|\t".includes(c))!;
  add({
    name: `path: -f ${JSON.stringify(name)}`,
    args: ["-f", name, "write", "q", "m"],
    exit: 1,
    stderr: err(`Database filename contains dangerous character '${ch}': ${name}. ${METACHAR_TAIL}`),
  });
}
add({
  // The error text embeds the path; its newline is printed escaped so the error stays one line.
  name: "path: -d with a newline",
  args: ["-d", "a\nb", "write", "q", "m"],
  exit: 1,
  stderr: err(`Directory argument (-d/--dir) contains dangerous character '\\n': a\\nb. ${METACHAR_TAIL}`),
});

// --- runner ---

function listFiles(dir: string, base = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(`${rel}/`, ...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

function expectOneLine(stderr: string, expected: string | RegExp | null): void {
  if (expected === null) {
    expect(stderr).toBe("");
    return;
  }
  expect(stderr.endsWith("\n")).toBe(true);
  const lines = stderr.slice(0, -1).split("\n");
  expect(lines.length).toBe(1);
  if (typeof expected === "string") expect(lines[0]).toBe(expected);
  else expect(lines[0]).toMatch(expected);
}

describe("bad input (table-driven)", () => {
  for (const c of cases) {
    test(
      c.name,
      async () => {
        const dir = caseDir(!c.noDb);
        c.setup?.(dir);
        const cwd = c.noDb && existsSync(join(dir, "work")) ? join(dir, "work") : dir;
        const watched = c.watch === undefined ? DB : c.watch;
        const watchPath = watched ? join(dir, watched) : "";
        const before = watchPath && existsSync(watchPath) ? sha256(watchPath) : undefined;
        const filesBefore = listFiles(dir);

        const r = await runCli(c.args, { cwd, env: c.env, stdin: c.stdin });

        expect(r.stdout).toBe("");
        expectOneLine(r.stderr, c.stderr);
        expect(r.exitCode).toBe(c.exit);
        if (before !== undefined) expect(sha256(watchPath)).toBe(before);
        if (c.exit !== 0) {
          // A refused command creates no database anywhere in the case directory.
          const created = listFiles(dir).filter((f) => !filesBefore.includes(f) && !/-(wal|shm)$/.test(f));
          expect(created).toEqual([]);
        }
        await c.after?.(dir, r);
      },
      c.timeout ?? 15_000,
    );
  }

  test("the table has at least 50 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
    console.log(`bad-input: ${cases.length} table cases`);
  });
});

// --- environment-dependent cases: mounts, locks, closed stdout ---

describe("read-only storage (bind mounts; chmod does not stop root)", () => {
  test("read-only folder: write and read exit 1, database unchanged", async () => {
    const dir = caseDir();
    const ro = readOnlyBind(dir);
    if (!ro.ok) {
      console.log(`skipped read-only folder: ${ro.reason}`);
      return;
    }
    try {
      const hash = sha256(join(dir, DB));
      for (const args of [
        ["write", "q", "x"],
        ["read", "q"],
      ]) {
        const r = await runCli(args, { cwd: dir });
        expect(r.stdout).toBe("");
        expectOneLine(r.stderr, /^simplebroker: error: .*(unable to open database file|readonly|read-only).*$/);
        expect(r.exitCode).toBe(1);
        expect(sha256(join(dir, DB))).toBe(hash);
      }
    } finally {
      unmount(dir);
    }
    expect(pending(dir)).toEqual(["one", "two", "three"]);
  });

  test("read-only file in a writable folder: write and read exit 1, database unchanged", async () => {
    const dir = caseDir();
    const file = join(dir, DB);
    const ro = readOnlyBind(file);
    if (!ro.ok) {
      console.log(`skipped read-only file: ${ro.reason}`);
      return;
    }
    try {
      const hash = sha256(file);
      for (const args of [
        ["write", "q", "x"],
        ["read", "q"],
      ]) {
        const r = await runCli(args, { cwd: dir });
        expect(r.stdout).toBe("");
        expectOneLine(r.stderr, /^simplebroker: error: .*(readonly|read-only|unable to open).*$/);
        expect(r.exitCode).toBe(1);
        expect(sha256(file)).toBe(hash);
      }
    } finally {
      unmount(file);
    }
    expect(pending(dir)).toEqual(["one", "two", "three"]);
  });
});

describe("a database locked by another process past the busy timeout", () => {
  for (const args of [
    ["write", "q", "x"],
    ["read", "q"],
  ]) {
    test(`${args[0]}: exit 1, one line, database unchanged`, async () => {
      const dir = caseDir();
      const file = join(dir, DB);
      const hash = sha256(file);
      const holder = Bun.spawn([process.execPath, LOCK_FIXTURE, file, "0"], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
      try {
        const reader = holder.stdout.getReader();
        expect(new TextDecoder().decode((await reader.read()).value)).toBe("locked\n");
        reader.releaseLock();
        const r = await runCli(args, { cwd: dir, env: { BROKER_BUSY_TIMEOUT: "50" } });
        expect(r.stdout).toBe("");
        expectOneLine(r.stderr, /^simplebroker: error: .*database is locked.*$/);
        expect(r.exitCode).toBe(1);
        expect(sha256(file)).toBe(hash);
      } finally {
        holder.kill("SIGKILL");
        await holder.exited;
      }
      expect(sha256(file)).toBe(hash);
      expect(pending(dir)).toEqual(["one", "two", "three"]);
    }, 60_000);
  }
});

describe("closed stdout", () => {
  const sh = (script: string) => ["sh", "-c", script, "sh", process.execPath, CLI];

  test("stdout closed at exec: peek exits 0 and the database is unchanged", async () => {
    // Bun re-opens a closed fd 1 as /dev/null: output is discarded, never written into the database.
    const dir = caseDir();
    const hash = sha256(join(dir, DB));
    const r = await runCli(["peek", "q", "--all"], { cwd: dir, cmd: sh('exec "$@" >&-') });
    expect(r).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    expect(sha256(join(dir, DB))).toBe(hash);
  });

  test("stdout closed at exec: read consumes like > /dev/null and keeps the file sound", async () => {
    const dir = caseDir();
    const r = await runCli(["read", "q"], { cwd: dir, cmd: sh('exec "$@" >&-') });
    expect(r).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    expect(pending(dir)).toEqual(["two", "three"]);
    const db = new Database(join(dir, DB), { readonly: true });
    expect((db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
    db.close();
  });

  for (const args of [
    ["read", "q"],
    ["read", "q", "--all"],
    ["read", "q", "--json"],
  ]) {
    test(`reader gone (EPIPE): ${args.join(" ")} exits 0 and loses nothing (Q8)`, async () => {
      const dir = caseDir();
      const rc = join(dir, "rc");
      const r = await runCli(args, { cwd: dir, cmd: sh(`{ sleep 0.3; "$@"; echo $? > '${rc}'; } | true`) });
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe("");
      expect(readFileSync(rc, "utf8").trim()).toBe("0");
      expect(pending(dir)).toEqual(["one", "two", "three"]);
    });
  }
});

describe("full disk (tmpfs of 256 KiB)", () => {
  test("a write that cannot fit fails with exit 1; earlier messages stay readable", async () => {
    const dir = caseDir(false);
    const m = tryMount(["-t", "tmpfs", "-o", "size=256k", "tmpfs"], dir);
    if (!m.ok) {
      console.log(`skipped full disk: ${m.reason}`);
      return;
    }
    try {
      for (const msg of ["a", "b", "c"]) expect((await runCli(["write", "q", msg], { cwd: dir })).exitCode).toBe(0);
      const hash = sha256(join(dir, DB));
      const r = await runCli(["write", "q"], { cwd: dir, stdin: "x".repeat(400_000) });
      expect(r.stdout).toBe("");
      expectOneLine(r.stderr, /^simplebroker: error: .*database or disk is full$/);
      expect(r.exitCode).toBe(1);
      expect(sha256(join(dir, DB))).toBe(hash);
      const read = await runCli(["read", "q", "--all"], { cwd: dir });
      expect(read).toEqual({ stdout: "a\nb\nc\n", stderr: "", exitCode: 0 });
      // Once space is there again the database takes writes.
      expect((await runCli(["write", "q", "after"], { cwd: dir })).exitCode).toBe(0);
      expect((await runCli(["read", "q"], { cwd: dir })).stdout).toBe("after\n");
    } finally {
      unmount(dir);
    }
  });

  test("a disk with no space left: creating a database fails with exit 1", async () => {
    const dir = caseDir(false);
    const m = tryMount(["-t", "tmpfs", "-o", "size=256k", "tmpfs"], dir);
    if (!m.ok) {
      console.log(`skipped full disk: ${m.reason}`);
      return;
    }
    try {
      // Fill the file system completely.
      const fd = openSync(join(dir, "filler"), "w");
      try {
        for (;;) writeSync(fd, Buffer.alloc(4096, 1));
      } catch (error) {
        expect((error as { code?: string }).code).toBe("ENOSPC");
      } finally {
        closeSync(fd);
      }
      const r = await runCli(["write", "q", "x"], { cwd: dir });
      expect(r.stdout).toBe("");
      expectOneLine(r.stderr, /^simplebroker: error: .*(disk is full|unable to open|No space left|ENOSPC).*$/i);
      expect(r.exitCode).toBe(1);
      rmSync(join(dir, "filler"));
      // With space again, the (possibly empty) file is a new database (docs/on-disk-format.md#recognition).
      expect((await runCli(["write", "q", "y"], { cwd: dir })).exitCode).toBe(0);
      expect((await runCli(["read", "q"], { cwd: dir })).stdout).toBe("y\n");
    } finally {
      unmount(dir);
    }
  });
});
