/**
 * Exactly-once delivery across processes on Redis: 5,000 messages drained by
 * four consumers started at once — two `broker read --all -t` CLIs (one claim
 * per message) and two library consumers (batches of claims, and committed
 * at-least-once reservations). Every message must come out exactly once.
 */
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createRedisBackend } from "../../lib/backends/redis/index.ts";
import { resolveConfig } from "../../lib/config.ts";
import { CLI, tempDir, uniqueName } from "../helpers.ts";

const URL = process.env.BROKER_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";
const FIXTURE = resolve(import.meta.dir, "../fixtures/redis-consumer-fixture.ts");
const TOTAL = 5000;
const namespace = uniqueName("test_redis_mp");
const backend = createRedisBackend({ url: URL, options: { namespace }, config: resolveConfig({}) });
const dir = tempDir("sb-redis-mp-");

afterAll(async () => {
  await backend.cleanup!().catch(() => {});
  await backend.close();
  dir[Symbol.dispose]();
});

async function run(cmd: string[], env: Record<string, string> = {}): Promise<string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BROKER_") && v !== undefined) base[k] = v;
  const proc = Bun.spawn(cmd, { cwd: dir.path, env: { ...base, ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${err}`);
  return out;
}

test("5,000 messages, 4 consumer processes at once, each message delivered exactly once", async () => {
  writeFileSync(
    join(dir.path, ".broker.toml"),
    `version = 1\nbackend = "redis"\ntarget = "${URL}"\n\n[backend_options]\nnamespace = "${namespace}"\n`,
  );
  await backend.init();
  const bodies = Array.from({ length: TOTAL }, (_, i) => `job-${i}`);
  for (let i = 0; i < TOTAL; i += 500) await backend.write("jobs", bodies.slice(i, i + 500));
  expect((await backend.queueStats("jobs")).pending).toBe(TOTAL);

  const scope = { BROKER_PROJECT_SCOPE: "1" };
  const outputs = await Promise.all([
    run([process.execPath, CLI, "read", "jobs", "--all", "-t"], scope),
    run([process.execPath, CLI, "read", "jobs", "--all", "-t"], scope),
    run([process.execPath, FIXTURE, URL, namespace, "jobs", "claim"]),
    run([process.execPath, FIXTURE, URL, namespace, "jobs", "reserve"]),
  ]);
  const perProcess = outputs.map((o) => o.split("\n").filter(Boolean));
  const all = perProcess.flat();
  const ids = all.map((l) => l.split("\t")[0]!);
  expect(all.length).toBe(TOTAL);
  expect(new Set(ids).size).toBe(TOTAL);
  expect(new Set(all.map((l) => l.split("\t")[1])).size).toBe(TOTAL);
  expect(perProcess.filter((lines) => lines.length > 0).length).toBeGreaterThanOrEqual(2);
  // Each consumer saw its share in FIFO order.
  for (const lines of perProcess) {
    const ts = lines.map((l) => BigInt(l.split("\t")[0]!));
    expect(ts.every((t, i) => i === 0 || t > ts[i - 1]!)).toBe(true);
  }
  expect(await backend.queueStats("jobs")).toMatchObject({ pending: 0, claimed: TOTAL, total: TOTAL });
  console.log(`per-process deliveries: ${perProcess.map((l) => l.length).join(", ")}`);
}, 120_000);
