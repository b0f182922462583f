/**
 * What the common CLI paths load. `node:fs` and `node:path` cost a compiled
 * `broker` several milliseconds each to load, more than the durable work of
 * one write; the commands on an existing database must not need them. Speed
 * itself is measured by `bun run bench`, not here.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, symlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { childEnv, CLI, runCli, tempDir } from "../helpers.ts";

const ROOT = resolve(import.meta.dir, "../..");
const FIXTURE = resolve(import.meta.dir, "../fixtures/startup-fixture.ts");

async function runMain(args: string[], cwd: string, stdin?: string) {
  const proc = Bun.spawn([process.execPath, FIXTURE, ...args], {
    cwd,
    env: childEnv(),
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const marker = /fs-loaded=(true|false)\n$/.exec(stderr);
  return { stdout, stderr: stderr.slice(0, marker?.index ?? stderr.length), exitCode, fsLoaded: marker?.[1] === "true" };
}

describe("CLI start-up", () => {
  test("commands on an existing database never load node:fs", async () => {
    using dir = tempDir();
    expect((await runCli(["write", "q", "first"], { cwd: dir.path })).exitCode).toBe(0);
    const cases: [string[], string, number][] = [
      [["write", "q", "second"], "", 0],
      [["peek", "q"], "first\n", 0],
      [["read", "q"], "first\n", 0],
      [["list"], "q: 1\n", 0],
      [["exists", "q"], "", 0],
      [["read", "q", "--json"], '{"message": "second", "timestamp": ', 0],
      [["read", "q"], "", 2],
      [["--version"], "simplebroker 3.6.1\n", 0],
    ];
    for (const [args, stdout, code] of cases) {
      const r = await runMain(args, dir.path);
      expect({ args, code: r.exitCode, stderr: r.stderr, fsLoaded: r.fsLoaded }).toEqual({
        args,
        code,
        stderr: "",
        fsLoaded: false,
      });
      expect(r.stdout.startsWith(stdout)).toBe(true);
    }
  });

  test("a new database, a missing -d and a symlinked database take the full checks (and report as 3.6.1 does)", async () => {
    using dir = tempDir();
    const created = await runMain(["write", "q", "x"], dir.path);
    expect([created.exitCode, created.fsLoaded]).toEqual([0, true]);

    const missing = await runMain(["-d", "nope", "write", "q", "x"], dir.path);
    expect([missing.exitCode, missing.stderr, missing.fsLoaded]).toEqual([
      1,
      "simplebroker: error: Directory not found: nope\n",
      true,
    ]);

    using outside = tempDir();
    expect((await runCli(["write", "q", "elsewhere"], { cwd: outside.path })).exitCode).toBe(0);
    symlinkSync(join(outside.path, ".broker.db"), join(dir.path, "link.db"));
    const escaped = await runMain(["-f", "link.db", "read", "q"], dir.path);
    expect([escaped.exitCode, escaped.stderr]).toEqual([
      1,
      "simplebroker: error: Database file must be within the working directory\n",
    ]);
  });

  test("no source file of lib/ or cli/ imports node:fs, node:path, node:tty, node:os or consola at start-up", () => {
    const offenders: string[] = [];
    for (const top of ["lib", "cli"]) {
      for (const file of readdirSync(join(ROOT, top), { recursive: true }) as string[]) {
        if (!file.endsWith(".ts")) continue;
        const text = readFileSync(join(ROOT, top, file), "utf8");
        for (const m of text.matchAll(/^import (?!type )[^;]*? from "((?:node:)?(?:fs|path|tty|os)|consola[^"]*)";$/gm))
          offenders.push(`${top}/${file}: ${m[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  test("the script entry, run through its shebang as npx runs it, reads no .env from the directory", async () => {
    using dir = tempDir();
    await Bun.write(join(dir.path, ".env"), "BROKER_DEFAULT_DB_NAME=from-dotenv.db\n");
    const env = { ...childEnv(), PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` };
    const proc = Bun.spawn([CLI, "write", "q", "m"], { cwd: dir.path, env, stdout: "pipe", stderr: "pipe" });
    expect(await proc.exited).toBe(0);
    expect(await Bun.file(join(dir.path, ".broker.db")).exists()).toBe(true);
    expect(await Bun.file(join(dir.path, "from-dotenv.db")).exists()).toBe(false);
  });
});
