/**
 * Exactly-once delivery across processes on Redis: four consumers start
 * first and wait — two `broker watch jobs -t` CLIs (one claim per message,
 * woken by pub/sub) and two library consumers (batches of claims, and
 * committed at-least-once reservations) — then 5,000 messages are written.
 * Every message must come out exactly once, each consumer in FIFO order.
 */
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createRedisBackend } from "../../lib/backends/redis/index.ts";
import { resolveConfig } from "../../lib/target/config.ts";
import { CLI, tempDir, uniqueName, childEnv } from "../helpers.ts";
import { redisUrl } from "../services.ts";

const URL = await redisUrl();
const FIXTURE = resolve(import.meta.dir, "../fixtures/redis-consumer-fixture.ts");
const TOTAL = 5000;
const namespace = uniqueName("test_redis_mp");
const backend = createRedisBackend({ url: URL, options: { namespace }, config: resolveConfig({}) });
const dir = tempDir("sb-redis-mp-");

afterAll(async () => {
  await backend.cleanup!().catch(() => {});
  await backend.close();
  dir[Symbol.dispose]();
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

/** A child process whose stdout is collected as it arrives. */
function spawn(cmd: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn(cmd, { cwd: dir.path, env: childEnv(env), stdout: "pipe", stderr: "pipe" });
  const state = { proc, out: "", err: "" };
  const pump = async (stream: ReadableStream<Uint8Array>, key: "out" | "err") => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) state[key] += decoder.decode(chunk, { stream: true });
  };
  const done = Promise.all([pump(proc.stdout, "out"), pump(proc.stderr, "err")]).then(() => proc.exited);
  return { state, done };
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

test("5,000 messages, 4 consumer processes at once, each message delivered exactly once", async () => {
  writeFileSync(
    join(dir.path, ".broker.toml"),
    `version = 1\nbackend = "redis"\ntarget = "${URL}"\n\n[backend_options]\nnamespace = "${namespace}"\n`,
  );
  await backend.init();
  const scope = { BROKER_PROJECT_SCOPE: "1" };
  const consumers = [
    spawn([process.execPath, CLI, "watch", "jobs", "-t"], scope),
    spawn([process.execPath, CLI, "watch", "jobs", "-t"], scope),
    spawn([process.execPath, FIXTURE, URL, namespace, "jobs", "claim", String(TOTAL)]),
    spawn([process.execPath, FIXTURE, URL, namespace, "jobs", "reserve", String(TOTAL)]),
  ];
  const [cliA, cliB] = consumers;
  try {
    await until(() => consumers.every((c) => c.state.err.length > 0), 30_000, "consumers to start");
    await Bun.sleep(200); // the CLIs announce themselves just before subscribing
    for (let i = 0; i < TOTAL; i += 100) {
      await backend.write(
        "jobs",
        Array.from({ length: 100 }, (_, k) => `job-${i + k}`),
      );
    }
    const lines = () => consumers.reduce((n, c) => n + c.state.out.split("\n").length - 1, 0);
    await until(() => (cliA!.state.out + cliB!.state.out).length > 0 && lines() >= TOTAL, 60_000, "all messages");
  } finally {
    for (const c of [cliA!, cliB!]) c.state.proc.kill("SIGINT");
  }
  const codes = await Promise.all(consumers.map((c) => c.done));
  expect(codes).toEqual([0, 0, 0, 0]);

  const perProcess = consumers.map((c) => c.state.out.split("\n").filter(Boolean));
  const all = perProcess.flat();
  expect(all.length).toBe(TOTAL);
  expect(new Set(all.map((l) => l.split("\t")[0])).size).toBe(TOTAL);
  expect(new Set(all.map((l) => l.split("\t")[1])).size).toBe(TOTAL);
  for (const mine of perProcess) {
    const ts = mine.map((l) => BigInt(l.split("\t")[0]!));
    expect(ts.every((t, i) => i === 0 || t > ts[i - 1]!)).toBe(true);
  }
  expect(await backend.queueStats("jobs")).toMatchObject({ pending: 0, claimed: TOTAL, total: TOTAL });
  console.log(`per-process deliveries (watch, watch, claim, reserve): ${perProcess.map((l) => l.length).join(", ")}`);
}, 120_000);
