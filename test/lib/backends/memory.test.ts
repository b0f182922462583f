/**
 * The in-memory backend of examples/memory-backend.ts, a backend from
 * outside: it passes the contract suite exported as `simplebroker/testing`
 * (imported here by that name, as a backend author would), and the CLI runs
 * on it when `BROKER_BACKEND` names the module.
 */
import { describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { describeBackendContract } from "simplebroker/testing";
import { createMemoryBackend } from "../../../examples/memory-backend.ts";
import { Broker } from "../../../lib/queue/broker.ts";
import { resolveConfig } from "../../../lib/target/config.ts";
import { watchQueue } from "../../../lib/watch/watcher.ts";
import { childEnv, tempDir } from "../../helpers.ts";

const EXAMPLE = resolve(import.meta.dir, "../../../examples/memory-backend.ts");
const CLI = resolve(import.meta.dir, "../../../cli/index.ts");
let n = 0;

describeBackendContract({
  name: "memory (examples/memory-backend.ts)",
  create: async () => {
    const b = createMemoryBackend(`contract-${n++}`);
    await b.init();
    return b;
  },
  connectSame: async (b) => createMemoryBackend(b.displayTarget),
});

/** Run the CLI in `cwd` with `env` added to a clean environment. */
async function cli(args: string[], cwd: string, env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, CLI, ...args], {
    cwd,
    env: { ...childEnv(), ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

describe("shared code on a backend with few capabilities", () => {
  test.each([
    ["activity hints (onActivity)", true],
    ["nothing but polling", false],
  ])("a watcher receives writes from another connection: %s", async (_name, hints) => {
    const store = `watch-${hints}`;
    const watched = createMemoryBackend(store);
    if (!hints) delete (watched as { onActivity?: unknown }).onActivity;
    await using broker = new Broker(watched, resolveConfig());
    const writer = createMemoryBackend(store);
    const ctl = new AbortController();
    const got: string[] = [];
    const watching = (async () => {
      for await (const m of watchQueue("jobs", { target: broker, signal: ctl.signal })) {
        got.push(m.body);
        if (got.length === 3) ctl.abort();
      }
    })();
    await writer.write("jobs", ["a"]);
    await writer.write("jobs", ["b", "c"]);
    await watching;
    expect(got).toEqual(["a", "b", "c"]);
    expect(await writer.queueStats("jobs")).toEqual({ queue: "jobs", pending: 0, claimed: 3, total: 3, exists: true });
  });

  test("at-least-once batches without reservations: a rollback puts every message back", async () => {
    await using broker = new Broker(createMemoryBackend("batches"), resolveConfig());
    await broker.write("q", ["1", "2", "3"]);
    const batch = await broker.reserve("q", { limit: 2 });
    expect(batch.messages.map((m) => m.body)).toEqual(["1", "2"]);
    await batch.rollback();
    expect((await broker.peek("q", { limit: 10 })).map((m) => m.body)).toEqual(["1", "2", "3"]);
  });
});

describe("BROKER_BACKEND names a backend module", () => {
  test("write, read and list run on the module's backend", async () => {
    using dir = tempDir("sb-memory-cli-");
    const env = { BROKER_BACKEND: "./memory-backend.ts", BROKER_BACKEND_TARGET: join(dir.path, "store.json") };
    await Bun.write(join(dir.path, "memory-backend.ts"), `export { backend } from ${JSON.stringify(EXAMPLE)};\n`);
    expect(await cli(["write", "jobs", "first"], dir.path, env)).toEqual({ stdout: "", stderr: "", code: 0 });
    expect(await cli(["write", "jobs", "second"], dir.path, env)).toEqual({ stdout: "", stderr: "", code: 0 });
    expect(await cli(["read", "jobs"], dir.path, env)).toEqual({ stdout: "first\n", stderr: "", code: 0 });
    expect(await cli(["list"], dir.path, env)).toEqual({ stdout: "jobs: 1\n", stderr: "", code: 0 });
    // The messages live in the module's store, not in a SQLite file.
    expect(await Bun.file(join(dir.path, ".broker.db")).exists()).toBe(false);
    expect(JSON.parse(await Bun.file(env.BROKER_BACKEND_TARGET).text()).rows.length).toBe(2);
  });

  test("a .broker.toml names the module relative to its own folder", async () => {
    using dir = tempDir("sb-memory-toml-");
    const store = join(dir.path, "store.json");
    await Bun.write(join(dir.path, "backends/memory.ts"), `export { backend } from ${JSON.stringify(EXAMPLE)};\n`);
    await Bun.write(join(dir.path, ".broker.toml"), `version = 1\nbackend = "./backends/memory.ts"\ntarget = "${store}"\n`);
    const env = { BROKER_PROJECT_SCOPE: "1" };
    expect(await cli(["write", "q", "hello"], dir.path, env)).toEqual({ stdout: "", stderr: "", code: 0 });
    expect(await cli(["read", "q"], join(dir.path, "backends"), env)).toEqual({ stdout: "hello\n", stderr: "", code: 0 });
  });

  test("a module that is missing or exports no backend is a one-line error, exit 1", async () => {
    using dir = tempDir("sb-memory-bad-");
    await Bun.write(join(dir.path, "nothing.ts"), "export const x = 1;\n");
    expect(await cli(["write", "q", "x"], dir.path, { BROKER_BACKEND: "./missing.ts" })).toEqual({
      stdout: "",
      stderr: "simplebroker: error: Requested backend './missing.ts' is not available.\n",
      code: 1,
    });
    // A package name comes only from a node_modules folder: Bun would otherwise auto-install it (here from its cache).
    expect(await cli(["write", "q", "x"], dir.path, { BROKER_BACKEND: "nope" })).toEqual({
      stdout: "",
      stderr: "simplebroker: error: Requested backend 'nope' is not available.\n",
      code: 1,
    });
    const bad = await cli(["write", "q", "x"], dir.path, { BROKER_BACKEND: "./nothing.ts" });
    expect(bad).toEqual({
      stdout: "",
      stderr:
        "simplebroker: error: Backend module './nothing.ts' exports no backend: expected 'export const backend = defineBackend({ name, create })' or a default export\n",
      code: 1,
    });
  });
});
