/**
 * Postgres backend micro-benchmark: LISTEN/NOTIFY wake latency of a
 * QueueWatcher (one backend instance) for writes made through another
 * instance, then single-message writes/s, single claims/s and batched
 * writes/s. Plain `key: value` lines on stdout.
 *
 *     bun bench/pg-wake.ts    # BROKER_TEST_POSTGRES_URL overrides the server
 */
import { QueueWatcher } from "../index.ts";
import { PostgresBackend } from "../lib/backends/postgres/index.ts";
import { Broker } from "../lib/queue/broker.ts";
import { resolveConfig } from "../lib/target/config.ts";

const URL = process.env.BROKER_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const SAMPLES = 200;
const WARMUP = 20;
const OPS = 2_000;
const BATCH = 10_000;

const config = resolveConfig();
const schema = `bench_pg_wake_${process.pid}_${Date.now().toString(36)}`;
const watching = new PostgresBackend({ url: URL, options: { schema }, config });
const writer = new PostgresBackend({ url: URL, options: { schema }, config });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Wake latencies (write start → handler) and, for context, the write's own duration. */
async function wakeLatency(): Promise<{ wake: number[]; write: number[] }> {
  const arrivals = new Map<string, number>();
  let notify: (() => void) | undefined;
  const watcher = new QueueWatcher(
    "wake",
    (m) => {
      arrivals.set(m.body, performance.now());
      notify?.();
    },
    { db: new Broker(watching, config) },
  ).start();
  await watching.listening();
  const latencies: number[] = [];
  const writes: number[] = [];
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const body = `s${i}`;
    const arrived = new Promise<void>((resolve) => {
      notify = () => arrivals.has(body) && resolve();
    });
    const started = performance.now();
    await writer.write("wake", [body]);
    if (i >= WARMUP) writes.push(performance.now() - started);
    await Promise.race([arrived, Bun.sleep(5_000)]);
    const at = arrivals.get(body);
    if (at === undefined) throw new Error(`sample ${i}: no wake-up within 5 s`);
    if (i >= WARMUP) latencies.push(at - started);
    await Bun.sleep(2); // let the watcher go back to waiting on LISTEN
  }
  await watcher.stop();
  const sort = (xs: number[]) => xs.sort((a, b) => a - b);
  return { wake: sort(latencies), write: sort(writes) };
}

async function rate(count: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) await op(i);
  return count / ((performance.now() - started) / 1000);
}

try {
  await writer.init();
  const { wake, write } = await wakeLatency();
  console.log(`pg wake latency p50: ${percentile(wake, 50).toFixed(2)} ms`);
  console.log(`pg wake latency p99: ${percentile(wake, 99).toFixed(2)} ms`);
  console.log(`pg wake samples: ${wake.length} (write start -> watcher handler)`);
  console.log(
    `pg write commit p50: ${percentile(write, 50).toFixed(2)} ms, p99: ${percentile(write, 99).toFixed(2)} ms (part of the above)`,
  );
  const writes = await rate(OPS, (i) => writer.write("tp", [`w${i}`]));
  console.log(`pg writes/s (1 message per transaction): ${writes.toFixed(0)}`);
  const claims = await rate(OPS, () => writer.claim("tp", {}));
  console.log(`pg claims/s (1 message per transaction): ${claims.toFixed(0)}`);
  const bodies = Array.from({ length: BATCH }, (_, i) => `b${i}`);
  const started = performance.now();
  await writer.write("batch", bodies);
  console.log(
    `pg batched writes/s (${BATCH} in one transaction): ${(BATCH / ((performance.now() - started) / 1000)).toFixed(0)}`,
  );
  const claimStart = performance.now();
  let claimed = 0;
  while (claimed < BATCH) claimed += (await writer.claim("batch", { limit: 100 })).length;
  console.log(`pg batched claims/s (100 per transaction): ${(BATCH / ((performance.now() - claimStart) / 1000)).toFixed(0)}`);
} finally {
  await writer.cleanup().catch(() => {});
  await Promise.all([watching.close(), writer.close()]);
}
