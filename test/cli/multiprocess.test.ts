// Guards exactly-once delivery across processes (issue 3,
// docs/compatibility.md#delivery): 4 writer processes and 4 reader processes (two claiming
// through the library, two through the real CLI `read q --all`) share one
// fresh database file. Every message must be read exactly once, ids must be
// unique, and each writer's messages must come out in the order written.
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runCli, tempDir, childEnv } from "../helpers.ts";

const FIXTURES = resolve(import.meta.dir, "../fixtures");
const WRITERS = 4;
const PER_WRITER = 2_000;

function spawnChild(script: string, args: string[], env: Record<string, string>) {
  return Bun.spawn([process.execPath, join(FIXTURES, script), ...args], { env, stdout: "pipe", stderr: "pipe" });
}

async function finish(proc: ReturnType<typeof spawnChild>, name: string): Promise<string> {
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  expect({ name, code, stderr }).toEqual({ name, code: 0, stderr: "" });
  return stdout;
}

test("4 writers and 4 readers on one file: each message read exactly once, per-writer order kept", async () => {
  using d = tempDir();
  const env = childEnv({ BROKER_SYNC_MODE: "NORMAL" });
  const db = join(d.path, ".broker.db");

  const writers = Array.from({ length: WRITERS }, (_, w) =>
    spawnChild("writer-fixture.ts", [db, `w${w}`, String(PER_WRITER)], env),
  );
  const readerModes = ["lib", "cli", "lib", "cli"];
  const readers = readerModes.map((mode) => spawnChild("reader-fixture.ts", [d.path, mode], env));

  await Promise.all(writers.map((p, w) => finish(p, `writer ${w}`)));
  writeFileSync(join(d.path, "writers-done"), "");
  const outputs = await Promise.all(readers.map((p, r) => finish(p, `reader ${r} (${readerModes[r]})`)));

  const seenBodies = new Set<string>();
  const seenIds = new Set<bigint>();
  const idOf = new Map<string, bigint>();
  let total = 0;
  outputs.forEach((output, r) => {
    const lastIndex = new Map<string, number>();
    for (const line of output.split("\n")) {
      if (line === "") continue;
      const [id, body] = line.split("\t") as [string, string];
      expect(id).toMatch(/^\d{19}$/);
      const [writer, index] = body.split(":") as [string, string];
      // Within one reader, a writer's messages arrive in the order written.
      const prev = lastIndex.get(writer) ?? -1;
      if (Number(index) <= prev) throw new Error(`reader ${r}: ${body} after ${writer}:${prev}`);
      lastIndex.set(writer, Number(index));
      if (seenBodies.has(body)) throw new Error(`${body} was read twice`);
      seenBodies.add(body);
      seenIds.add(BigInt(id));
      idOf.set(body, BigInt(id));
      total++;
    }
  });

  expect(total).toBe(WRITERS * PER_WRITER);
  expect(seenBodies.size).toBe(WRITERS * PER_WRITER);
  expect(seenIds.size).toBe(WRITERS * PER_WRITER);
  // Ids grow with each writer's write order.
  for (let w = 0; w < WRITERS; w++) {
    for (let i = 1; i < PER_WRITER; i++) {
      const a = idOf.get(`w${w}:${String(i - 1).padStart(5, "0")}`)!;
      const b = idOf.get(`w${w}:${String(i).padStart(5, "0")}`)!;
      if (!(b > a)) throw new Error(`w${w}: id of message ${i} (${b}) is not above message ${i - 1} (${a})`);
    }
  }
  // Nothing is left pending.
  expect(await runCli(["list"], { cwd: d.path })).toEqual({ stdout: "", stderr: "", exitCode: 0 });
  expect(await runCli(["read", "q"], { cwd: d.path })).toEqual({ stdout: "", stderr: "", exitCode: 2 });
}, 180_000);
