// `broker serve` serves the database a command line selects, like every
// command: -d/-f from another directory, and a project's .broker.db found
// upward with BROKER_PROJECT_SCOPE.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { CLI, childEnv, tempDir } from "../helpers.ts";
import { sqlitePlace, startServe } from "./_server.ts";

const TIMEOUT = 30_000;
const place = sqlitePlace();
const elsewhere = tempDir("sb-serve-cwd-");
afterAll(async () => {
  elsewhere[Symbol.dispose]();
  await place[Symbol.asyncDispose]();
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

async function run(args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const proc = Bun.spawn([process.execPath, CLI, ...args], { cwd, env: childEnv(env), stdout: "pipe", stderr: "inherit" });
  const [out] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return out;
}

test(
  "-d and -f choose the database",
  async () => {
    await run(["-d", place.dir, "-f", "custom.db", "write", "q", "seed"], elsewhere.path);
    await using s = await startServe(place, [], {}, { globals: ["-d", place.dir, "-f", "custom.db"], cwd: elsewhere.path });
    expect(s.stderrLine).toContain(join(place.dir, "custom.db"));
    const res = await fetch(`${s.url}api/queues/q/messages`, { method: "POST", body: "over http" });
    expect(res.status).toBe(201);
    expect(await run(["-d", place.dir, "-f", "custom.db", "peek", "--all", "q"], elsewhere.path)).toBe("seed\nover http\n");
  },
  TIMEOUT,
);

test(
  "project scope: the .broker.db of a parent directory",
  async () => {
    await run(["init"], place.dir);
    const sub = join(place.dir, "a", "b");
    mkdirSync(sub, { recursive: true });
    await using s = await startServe(place, [], { BROKER_PROJECT_SCOPE: "1" }, { cwd: sub });
    expect(s.stderrLine).toContain(join(place.dir, ".broker.db"));
    expect((await fetch(`${s.url}api/queues/scoped/messages`, { method: "POST", body: "x" })).status).toBe(201);
    expect(await run(["peek", "scoped"], place.dir)).toBe("x\n");
  },
  TIMEOUT,
);
