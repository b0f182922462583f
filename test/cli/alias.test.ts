// Guards aliases through the CLI (docs/compatibility.md#commands, docs/on-disk-format.md#meta
// alias_version): add/list/remove round trip, `--target` reverse lookup (exit 2
// when none), `@` resolution in read/peek/move/delete/exists/stats, one hop
// only, the existing-queue warning, and alias_version bumps on every change.
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

const OK = { stdout: "", stderr: "", exitCode: 0 };
const EMPTY = { stdout: "", stderr: "", exitCode: 2 };
const out = (stdout: string) => ({ stdout, stderr: "", exitCode: 0 });
const SLOW = 30_000;

function aliasVersion(db: string): string {
  const h = new Database(db, { readonly: true, safeIntegers: true });
  try {
    return String((h.query("SELECT value FROM meta WHERE key = 'alias_version'").get() as { value: bigint }).value);
  } finally {
    h.close();
  }
}

test.concurrent(
  "add, list, --target, remove; alias_version changes each time",
  async () => {
    using d = tempDir();
    const cwd = d.path;
    const db = join(cwd, ".broker.db");
    expect(await runCli(["alias", "list"], { cwd })).toEqual(OK);
    expect(aliasVersion(db)).toBe("0");
    expect(await runCli(["alias", "add", "x", "jobs"], { cwd })).toEqual(OK);
    const v1 = aliasVersion(db);
    expect(v1).toMatch(/^\d{19}$/);
    expect(await runCli(["alias", "add", "b", "jobs"], { cwd })).toEqual(OK);
    expect(await runCli(["alias", "add", "m", "mail"], { cwd })).toEqual(OK);
    const v2 = aliasVersion(db);
    expect(v2).not.toBe(v1);
    expect(await runCli(["alias", "list"], { cwd })).toEqual(out("b -> jobs\nm -> mail\nx -> jobs\n"));
    expect(await runCli(["alias", "list", "--target", "jobs"], { cwd })).toEqual(out("b -> jobs\nx -> jobs\n"));
    expect(await runCli(["alias", "list", "--target", "@jobs"], { cwd })).toEqual(EMPTY);
    expect(await runCli(["alias", "list", "--target", "x"], { cwd })).toEqual(EMPTY);
    expect(await runCli(["alias", "remove", "x"], { cwd })).toEqual(OK);
    expect(aliasVersion(db)).not.toBe(v2);
    expect(await runCli(["alias", "remove", "x"], { cwd })).toEqual({
      stdout: "",
      stderr: "simplebroker: alias 'x' does not exist\n",
      exitCode: 1,
    });
    expect(await runCli(["alias", "list"], { cwd })).toEqual(out("b -> jobs\nm -> mail\n"));
  },
  SLOW,
);

test.concurrent(
  "@alias resolves in read, peek, move, delete, exists and stats; plain names stay literal",
  async () => {
    using d = tempDir();
    const cwd = d.path;
    expect(await runCli(["alias", "add", "in", "jobs"], { cwd })).toEqual(OK);
    expect(await runCli(["alias", "add", "out", "done"], { cwd })).toEqual(OK);
    for (const m of ["1", "2", "3", "4"]) expect(await runCli(["write", "@in", m], { cwd })).toEqual(OK);
    expect(await runCli(["write", "in", "literal"], { cwd })).toEqual(OK);
    expect(await runCli(["peek", "@in"], { cwd })).toEqual(out("1\n"));
    expect(await runCli(["read", "@in"], { cwd })).toEqual(out("1\n"));
    expect(await runCli(["move", "@in", "@out"], { cwd })).toEqual(out("2\n"));
    expect(await runCli(["move", "@in", "jobs"], { cwd })).toEqual({
      stdout: "",
      stderr: "simplebroker: error: Source and destination queues cannot be the same\n",
      exitCode: 1,
    });
    expect(await runCli(["peek", "done"], { cwd })).toEqual(out("2\n"));
    expect(await runCli(["exists", "@out", "--json"], { cwd })).toEqual(out('{"queue": "done", "exists": true}\n'));
    expect(await runCli(["stats", "@in"], { cwd })).toEqual(out("jobs: 2 (3 total, 1 claimed)\n"));
    expect(await runCli(["read", "in"], { cwd })).toEqual(out("literal\n"));
    expect(await runCli(["delete", "@in"], { cwd })).toEqual(OK);
    expect(await runCli(["list", "--stats"], { cwd })).toEqual(
      out("done: 1\nin: 0 (1 total, 1 claimed)\n\nTotal claimed messages: 1/2\n"),
    );
  },
  SLOW,
);

test.concurrent(
  "resolution is one hop; chains are allowed by naming a target",
  async () => {
    using d = tempDir();
    const cwd = d.path;
    expect(await runCli(["alias", "add", "a", "t"], { cwd })).toEqual(OK);
    expect(await runCli(["alias", "add", "t", "z"], { cwd })).toEqual(OK);
    expect(await runCli(["write", "@a", "one-hop"], { cwd })).toEqual(OK);
    expect(await runCli(["list"], { cwd })).toEqual(out("t: 1\n"));
    expect(await runCli(["alias", "add", "c", "a"], { cwd })).toEqual({
      stdout: "",
      stderr: "simplebroker: error: Cannot target another alias\n",
      exitCode: 1,
    });
  },
  SLOW,
);

test.concurrent(
  "aliasing an existing queue warns once on stderr and still adds it",
  async () => {
    using d = tempDir();
    const cwd = d.path;
    expect(await runCli(["write", "old", "x"], { cwd })).toEqual(OK);
    expect(await runCli(["alias", "add", "old", "new"], { cwd })).toEqual({
      stdout: "",
      stderr:
        "simplebroker: warning: Queue 'old' already exists with messages. The alias @old will redirect to 'new' while the queue old remains accessible directly.\n",
      exitCode: 0,
    });
    expect(await runCli(["write", "@old", "y"], { cwd })).toEqual(OK);
    expect(await runCli(["read", "old"], { cwd })).toEqual(out("x\n"));
    expect(await runCli(["read", "@old"], { cwd })).toEqual(out("y\n"));
  },
  SLOW,
);
