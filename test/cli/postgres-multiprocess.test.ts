// Exactly-once delivery across processes on the Postgres backend: 5,000
// messages, four concurrent consumers (two library processes, two
// `broker read --all` CLI processes), every message delivered exactly once.
import { afterAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import { PostgresBackend } from "../../lib/backends/postgres/index.ts";
import { resolveConfig } from "../../lib/target/config.ts";
import { CLI, uniqueName, childEnv } from "../helpers.ts";
import { postgresUrl } from "../services.ts";

const URL = await postgresUrl();
const FIXTURE = resolve(import.meta.dir, "../fixtures/pg-consumer-fixture.ts");
const TOTAL = 5_000;
const schema = uniqueName("sbmulti");
const backend = new PostgresBackend({ url: URL, options: { schema }, config: resolveConfig() });

afterAll(async () => {
  await backend.cleanup().catch(() => {});
  await backend.close();
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

async function output(
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">,
): Promise<{ lines: string[]; code: number; stderr: string }> {
  const [text, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { lines: text.split("\n").filter((l) => l !== ""), code, stderr };
}

test("four concurrent consumer processes receive each of 5,000 messages exactly once", async () => {
  const bodies = Array.from({ length: TOTAL }, (_, i) => `m${String(i).padStart(5, "0")}`);
  for (let i = 0; i < TOTAL; i += 1_000) await backend.write("jobs", bodies.slice(i, i + 1_000));
  expect((await backend.queueStats("jobs")).pending).toBe(TOTAL);

  const env = childEnv();
  const startAt = String(Date.now() + 400);
  const lib = (limit: number) =>
    Bun.spawn([process.execPath, FIXTURE, URL, schema, "jobs", String(limit), startAt], {
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
  const cli = () =>
    Bun.spawn([process.execPath, CLI, "read", "jobs", "--all"], {
      env: { ...env, BROKER_BACKEND: "postgres", BROKER_BACKEND_TARGET: URL, BROKER_BACKEND_SCHEMA: schema },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
  const procs = [lib(1), lib(5), cli(), cli()];
  const results = await Promise.all(procs.map(output));

  for (const r of results) expect(r.stderr).toBe("");
  expect(results[0]!.code).toBe(0);
  expect(results[1]!.code).toBe(0);
  for (const r of results.slice(2)) expect([0, 2]).toContain(r.code);
  const seen = results.flatMap((r) => r.lines);
  expect(seen.length).toBe(TOTAL);
  expect(new Set(seen).size).toBe(TOTAL);
  expect([...seen].sort()).toEqual(bodies);
  // Each consumer's own deliveries are in FIFO order.
  for (const r of results) expect(r.lines).toEqual([...r.lines].sort());
  const stats = await backend.queueStats("jobs");
  expect(stats).toMatchObject({ pending: 0, claimed: TOTAL });
  console.log(`deliveries per consumer: ${results.map((r) => r.lines.length).join(", ")}`);
}, 180_000);
