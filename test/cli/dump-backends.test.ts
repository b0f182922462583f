/**
 * A dump from any backend loads into any other (every pair, each backend into
 * itself too), and the chain sqlite → postgres → redis → sqlite ends where it
 * began: after each load the target's dump is the source's, line for line,
 * but for the header's `backend`. Real PostgreSQL and Redis servers.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir, uniqueName } from "../helpers.ts";
import { postgresUrl, redisUrl } from "../services.ts";

setDefaultTimeout(120_000); // a dozen CLI runs per case on a loaded 2-core machine

const BACKENDS = ["sqlite", "postgres", "redis"] as const;
type Name = (typeof BACKENDS)[number];
const BODIES = ["one", "two\nlines", "é ✓ 日本 😀", "nul \u0000 byte", "ctl \u0001\u007f", 'q " \\', ""];

const root = tempDir("sb-dumpx-");
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
  root[Symbol.dispose]();
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

/** A fresh, empty store of `backend`: a folder, and the environment whose CLI runs address it. */
interface Store {
  cwd: string;
  env: Record<string, string>;
}

async function fresh(backend: Name): Promise<Store> {
  const cwd = join(root.path, uniqueName(backend));
  mkdirSync(cwd);
  const name = uniqueName("sb_dx");
  // BROKER_BACKEND_SCHEMA names the PostgreSQL schema, and the Redis namespace when the target has none.
  const env: Record<string, string> =
    backend === "sqlite"
      ? {}
      : {
          BROKER_BACKEND: backend,
          BROKER_BACKEND_TARGET: backend === "postgres" ? await postgresUrl() : await redisUrl(),
          BROKER_BACKEND_SCHEMA: name,
        };
  cleanups.push(() => runCli(["--cleanup"], { cwd, env }));
  return { cwd, env };
}

const cli = (store: Store, args: string[], stdin?: string) => runCli(args, { cwd: store.cwd, env: store.env, stdin });

async function seeded(backend: Name): Promise<Store> {
  const cwd = await fresh(backend);
  for (const [i, body] of BODIES.entries()) {
    // Through stdin: a NUL cannot travel in argv.
    expect((await cli(cwd, ["write", ["jobs", "b.q", "a-1"][i % 3]!, "-"], body)).exitCode).toBe(0);
  }
  await cli(cwd, ["read", "jobs"]); // claimed: not dumped
  await cli(cwd, ["alias", "add", "inbox", "jobs"]);
  return cwd;
}

async function dumped(cwd: Store, backend: Name): Promise<string[]> {
  const r = await cli(cwd, ["dump"]);
  expect(r.exitCode).toBe(0);
  const lines = r.stdout.trimEnd().split("\n");
  expect(JSON.parse(lines[0]!).backend).toBe(backend);
  return [lines[0]!.replace(`"backend": "${backend}"`, '"backend": "*"'), ...lines.slice(1)];
}

describe("dump from any backend loads into any other", () => {
  for (const from of BACKENDS) {
    for (const to of BACKENDS) {
      test(`${from} → ${to}`, async () => {
        const src = await seeded(from);
        const source = await dumped(src, from);
        expect(source.length).toBe(1 + 1 + BODIES.length - 1);
        const dst = await fresh(to);
        const load = await cli(dst, ["load"], `${(await cli(src, ["dump"])).stdout}`);
        expect(load).toEqual({ stdout: "", stderr: "", exitCode: 0 });
        expect(await dumped(dst, to)).toEqual(source);
        // New writes get larger ids than anything loaded.
        await cli(dst, ["write", "jobs", "after"]);
        const tail = (await cli(dst, ["peek", "jobs", "--all", "-t"])).stdout
          .trimEnd()
          .split("\n")
          .map((l) => BigInt(l.split("\t")[0]!));
        expect(tail.at(-1)! > BigInt(JSON.parse(source[0]!).last_ts)).toBe(true);
        expect((await cli(dst, ["read", "@inbox"])).stdout).toBe(`${BODIES[3]}\n`);
      });
    }
  }

  test("sqlite → postgres → redis → sqlite ends where it began", async () => {
    let cwd = await seeded("sqlite");
    const start = await dumped(cwd, "sqlite");
    for (const to of ["postgres", "redis", "sqlite"] as const) {
      const text = (await cli(cwd, ["dump"])).stdout;
      cwd = await fresh(to);
      expect((await cli(cwd, ["load"], text)).exitCode).toBe(0);
      expect(await dumped(cwd, to)).toEqual(start);
    }
  });
});
