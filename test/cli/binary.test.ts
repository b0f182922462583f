// Guards the single-file executable (issue 3): `bun build --compile` of
// cli/index.ts must behave exactly like the script, checked with the same
// golden transcript, and a copy named `simplebroker` must be identical to
// `broker` (the program name printed is always `simplebroker`, as in 3.6.1).
// It is built with package.json's `build` script arguments.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildArgs, childEnv, CLI, goldenCheck, runCli, tempDir, uniqueName } from "../helpers.ts";
import { postgresUrl, redisUrl } from "../services.ts";

const buildDir = realpathSync(mkdtempSync(join(tmpdir(), "sb-bin-")));
const BROKER = join(buildDir, "broker");
const SIMPLEBROKER = join(buildDir, "simplebroker");

beforeAll(async () => {
  const proc = Bun.spawn([process.execPath, ...buildArgs(CLI, BROKER)], {
    cwd: resolve(import.meta.dir, "../.."),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`bun build failed (${code}):\n${stdout}${stderr}`);
  copyFileSync(BROKER, SIMPLEBROKER);
}, 180_000);

afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

test("the compiled binary passes all 49 golden scenarios", async () => {
  const { summary, output, exitCode } = await goldenCheck(BROKER);
  if (summary !== "49 passed, 0 failed") console.error(output);
  expect(summary).toBe("49 passed, 0 failed");
  expect(exitCode).toBe(0);
}, 120_000);

test.concurrent("a copy named simplebroker behaves like broker", async () => {
  using d = tempDir();
  const viaBroker = { cwd: d.path, cmd: [BROKER] };
  const viaSimple = { cwd: d.path, cmd: [SIMPLEBROKER] };

  expect(await runCli(["--version"], viaSimple)).toEqual(await runCli(["--version"], viaBroker));
  expect(await runCli(["write", "jobs", "one"], viaBroker)).toEqual({ stdout: "", stderr: "", exitCode: 0 });
  expect(await runCli(["write", "jobs", "two"], viaSimple)).toEqual({ stdout: "", stderr: "", exitCode: 0 });
  expect(await runCli(["list"], viaSimple)).toEqual({ stdout: "jobs: 2\n", stderr: "", exitCode: 0 });
  expect(await runCli(["read", "jobs"], viaSimple)).toEqual({ stdout: "one\n", stderr: "", exitCode: 0 });
  expect(await runCli(["read", "jobs"], viaBroker)).toEqual({ stdout: "two\n", stderr: "", exitCode: 0 });
  expect(await runCli(["read", "jobs"], viaSimple)).toEqual({ stdout: "", stderr: "", exitCode: 2 });

  const bad =
    "simplebroker: error: Invalid queue name: must contain only letters, numbers, periods, underscores, and hyphens. Cannot begin with a hyphen or a period\n";
  expect(await runCli(["write", ".x", "m"], viaSimple)).toEqual({ stdout: "", stderr: bad, exitCode: 1 });
  expect(await runCli(["write", ".x", "m"], viaBroker)).toEqual({ stdout: "", stderr: bad, exitCode: 1 });

  // stdin through the binary, and the script and the binary share one file.
  expect(await runCli(["write", "jobs", "-"], { ...viaSimple, stdin: "piped\0bytes" })).toEqual({
    stdout: "",
    stderr: "",
    exitCode: 0,
  });
  expect(await runCli(["read", "jobs", "--json"], { cwd: d.path })).toEqual({
    stdout: '{"message": "piped\\u0000bytes", "timestamp": ' + (await idOf(d.path)) + "}\n",
    stderr: "",
    exitCode: 0,
  });
}, 60_000);

/** The id of the last message written (meta.last_ts), via --status --json. */
async function idOf(cwd: string): Promise<string> {
  const { stdout } = await runCli(["--status", "--json"], { cwd });
  return /"last_timestamp": (\d+)/.exec(stdout)![1]!;
}

test.concurrent("the binary reads no .env or bunfig.toml from the directory it runs in", async () => {
  using d = tempDir();
  // Bun's executables load both by default; SimpleBroker 3.6.1 reads only its BROKER_* environment.
  await Bun.write(join(d.path, ".env"), "BROKER_DEFAULT_DB_NAME=from-dotenv.db\n");
  await Bun.write(
    join(d.path, "preload.ts"),
    `require("node:fs").writeFileSync(${JSON.stringify(join(d.path, "preloaded"))}, "x");\n`,
  );
  await Bun.write(join(d.path, "bunfig.toml"), 'preload = ["./preload.ts"]\n');
  expect(await runCli(["write", "q", "m"], { cwd: d.path, cmd: [BROKER] })).toEqual({ stdout: "", stderr: "", exitCode: 0 });
  expect(await Bun.file(join(d.path, ".broker.db")).exists()).toBe(true);
  expect(await Bun.file(join(d.path, "from-dotenv.db")).exists()).toBe(false);
  expect(await Bun.file(join(d.path, "preloaded")).exists()).toBe(false);
}, 60_000);

test.concurrent("help, alias dispatch and a mistyped command: the binary prints what the script prints", async () => {
  using d = tempDir();
  // Commands are loaded on demand and dispatched through citty; the bundle must resolve every loader.
  for (const args of [[], ["help", "read"], ["alias", "--help"], ["help", "alias", "add"], ["serve", "--help"], ["reed", "q"]]) {
    expect({ args, ...(await runCli(args, { cwd: d.path, cmd: [BROKER] })) }).toEqual({
      args,
      ...(await runCli(args, { cwd: d.path })),
    });
  }
  expect(await runCli(["alias", "add", "a", "q"], { cwd: d.path, cmd: [BROKER] })).toEqual({
    stdout: "",
    stderr: "",
    exitCode: 0,
  });
  expect(await runCli(["alias", "list"], { cwd: d.path, cmd: [BROKER] })).toEqual({
    stdout: "a -> q\n",
    stderr: "",
    exitCode: 0,
  });
}, 60_000);

// The first bundle also leaves out the commands a script runs once or that run for long; those calls are handed to
// the complete bundle before they open or print anything (scripts/build.ts), so each prints what the script prints.
test.concurrent("commands only the complete bundle carries: init, rename, dump and load, alias, --status, --vacuum", async () => {
  using d = tempDir();
  using other = tempDir();
  const bin = { cwd: d.path, cmd: [BROKER] };
  const script = { cwd: d.path };
  expect(await runCli(["init"], bin)).toMatchObject({ stdout: "", exitCode: 0 });
  expect(await Bun.file(join(d.path, ".broker.db")).exists()).toBe(true);
  for (const body of ["one", "two", "three"]) await runCli(["write", "a", body], bin);
  expect(await runCli(["rename", "a", "b"], bin)).toMatchObject({ stdout: "", exitCode: 0 });
  expect(await runCli(["peek", "b", "--all"], bin)).toEqual({ stdout: "one\ntwo\nthree\n", stderr: "", exitCode: 0 });
  expect(await runCli(["alias", "add", "x", "b"], bin)).toEqual({ stdout: "", stderr: "", exitCode: 0 });
  const dump = await runCli(["dump"], bin);
  expect(dump).toEqual(await runCli(["dump"], script));
  expect(dump.stdout.split("\n").length).toBeGreaterThan(4);
  expect(await runCli(["load"], { cwd: other.path, cmd: [BROKER], stdin: dump.stdout })).toMatchObject({ exitCode: 0 });
  expect(await runCli(["read", "@x", "--all"], { cwd: other.path, cmd: [BROKER] })).toEqual({
    stdout: "one\ntwo\nthree\n",
    stderr: "",
    exitCode: 0,
  });
  for (const args of [["--status"], ["--status", "--json"], ["--vacuum"], ["read", "b", "--help"]]) {
    expect({ args, ...(await runCli(args, bin)) }).toEqual({ args, ...(await runCli(args, script)) });
  }
}, 60_000);

// The binary's first bundle leaves the network backends, `serve` and the TOML parser out and hands those calls to
// the complete bundle it carries (cli/_edition.ts); each must behave as from source, stdin included.
test.concurrent("calls the first bundle hands over: PostgreSQL and Redis, .broker.toml, serve", async () => {
  using d = tempDir();
  const bin = { cwd: d.path, cmd: [BROKER] };
  for (const [backend, url] of [
    ["postgres", await postgresUrl()],
    ["redis", await redisUrl()],
  ] as const) {
    const env = { BROKER_BACKEND: backend, BROKER_BACKEND_TARGET: url, BROKER_BACKEND_SCHEMA: uniqueName("sb_bin") };
    try {
      expect(await runCli(["write", "jobs", "-"], { ...bin, env, stdin: "piped" })).toMatchObject({ stdout: "", exitCode: 0 });
      expect(await runCli(["read", "jobs"], { ...bin, env })).toMatchObject({ stdout: "piped\n", exitCode: 0 });
      expect(await runCli(["read", "jobs"], { ...bin, env })).toMatchObject({ stdout: "", exitCode: 2 });
      const bad = await runCli(["write", ".x", "m"], { ...bin, env });
      expect({ stdout: bad.stdout, last: bad.stderr.trimEnd().split("\n").at(-1), exitCode: bad.exitCode }).toEqual({
        stdout: "",
        last: "simplebroker: error: Invalid queue name: must contain only letters, numbers, periods, underscores, and hyphens. Cannot begin with a hyphen or a period",
        exitCode: 1,
      });
    } finally {
      await runCli(["--cleanup"], { ...bin, env });
    }
  }

  const scoped = { BROKER_PROJECT_SCOPE: "1" };
  await Bun.write(join(d.path, ".broker.toml"), 'version = 1\nbackend = "sqlite"\ntarget = "from-toml.db"\n');
  expect(await runCli(["write", "q", "-"], { ...bin, env: scoped, stdin: "scoped" })).toEqual({
    stdout: "",
    stderr: "",
    exitCode: 0,
  });
  expect(await Bun.file(join(d.path, "from-toml.db")).exists()).toBe(true);
  expect(await runCli(["read", "q"], { ...bin, env: scoped })).toEqual({ stdout: "scoped\n", stderr: "", exitCode: 0 });
  await Bun.write(join(d.path, ".broker.toml"), "version = 1\nbackend = sqlite\n");
  const invalid = await runCli(["read", "q"], { ...bin, env: scoped });
  expect(invalid.exitCode).toBe(1);
  expect(invalid).toEqual(await runCli(["read", "q"], { cwd: d.path, env: scoped }));

  await runCli(["write", "served", "hello"], { cwd: d.path });
  const server = Bun.spawn([BROKER, "serve", "--port", "0"], { cwd: d.path, stdout: "pipe", stderr: "pipe", env: childEnv() });
  try {
    const reader = server.stderr.getReader();
    let text = "";
    while (!/http:\/\/\S+/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`serve ended: ${text}`);
      text += new TextDecoder().decode(value);
    }
    const base = /(http:\/\/\S+?)\/?(\s|$)/.exec(text)![1]!;
    const queues = (await (await fetch(`${base}/api/queues`)).json()) as unknown;
    expect(JSON.stringify(queues)).toContain('"served"');
  } finally {
    server.kill("SIGTERM");
    await server.exited;
  }
}, 60_000);
