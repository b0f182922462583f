/**
 * Redis backend benchmark: pub/sub wake-up latency of a watcher (a consuming
 * `watchQueue` iterator) for writes made by another backend instance, then
 * single-message writes and claims per second (sequential, and 32 in flight).
 *
 *     bun bench/redis-wake.ts [redis-url]      (default: $BROKER_TEST_REDIS_URL or redis://127.0.0.1:6379/0)
 */
import { watchQueue, type BrokerTarget } from "../index.ts";
import { createRedisBackend } from "../lib/backends/redis/index.ts";
import { resolveConfig } from "../lib/target/config.ts";

const url = process.argv[2] ?? process.env.BROKER_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";
const namespace = `bench_redis_wake_${process.pid}_${Date.now().toString(36)}`;
const SAMPLES = 200;
const OPS = 5000;
const config = resolveConfig({});
const target: BrokerTarget = {
  backendName: "redis",
  target: url,
  backendOptions: { namespace },
  projectRoot: null,
  configPath: null,
  usedProjectScope: false,
  legacySqlitePathMode: false,
};
const writer = createRedisBackend({ url, options: { namespace }, config });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function wakeLatency(): Promise<number[]> {
  const stop = new AbortController();
  const messages = watchQueue("wake", { target, signal: stop.signal })[Symbol.asyncIterator]();
  // Warm up: the first delivery also opens the watcher's connections and subscription.
  let sentAt = performance.now();
  await writer.write("wake", ["warmup"]);
  await messages.next();
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    await Bun.sleep(3 + Math.random() * 3); // let the watcher go idle on its subscription
    sentAt = performance.now();
    const next = messages.next();
    await writer.write("wake", [`sample ${i}`]);
    const { value } = await next;
    samples.push(performance.now() - sentAt);
    if (value?.body !== `sample ${i}`) throw new Error(`unexpected message ${value?.body}`);
  }
  stop.abort();
  await messages.return?.(undefined);
  return samples.sort((a, b) => a - b);
}

async function rate(label: string, concurrency: number, op: (i: number) => Promise<unknown>): Promise<void> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < OPS) await op(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label}: ${Math.round(OPS / seconds)} ops/s (${OPS} ops, concurrency ${concurrency})`);
}

try {
  await writer.init();
  console.log(`redis wake bench: ${writer.displayTarget}, namespace ${namespace}`);
  const lat = await wakeLatency();
  const mean = lat.reduce((a, b) => a + b, 0) / lat.length;
  console.log(
    `wake latency (${SAMPLES} samples): p50 ${percentile(lat, 50).toFixed(3)} ms, p99 ${percentile(lat, 99).toFixed(3)} ms, max ${lat.at(-1)!.toFixed(3)} ms, mean ${mean.toFixed(3)} ms`,
  );
  await rate("writes (1 message each, sequential)", 1, (i) => writer.write("rate", [`m${i}`]));
  await rate("claims (1 message each, sequential)", 1, () => writer.claim("rate", {}));
  await rate("writes (1 message each, pipelined)", 32, (i) => writer.write("rate", [`m${i}`]));
  await rate("claims (1 message each, pipelined)", 32, () => writer.claim("rate", {}));
} finally {
  await writer.cleanup!().catch(() => {});
  await writer.close();
}
