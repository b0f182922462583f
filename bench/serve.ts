/**
 * Load on `broker serve` over 127.0.0.1: `clients` concurrent clients send
 * `requests` requests in all, each a write (POST .../messages with a unique
 * body) or a claim (POST .../read), half and half in a seeded random order.
 * Afterwards the queue is drained, and the run passes only when no request
 * failed and every written message was read exactly once, with its body.
 * Latency percentiles cover every request.
 *
 *     npm run bench:serve                          # 100 clients, 10,000 requests, SQLite
 *     bun bench/serve.ts --clients 20 --requests 2000 --backend postgres
 *
 * `--backend postgres|redis` uses BROKER_TEST_POSTGRES_URL / BROKER_TEST_REDIS_URL.
 * test/serve/load.test.ts runs a lighter version of the same check.
 * @module
 */
import { parseArgs } from "node:util";
import { seededRandom } from "../test/helpers.ts";
import { type Place, postgresPlace, redisPlace, sqlitePlace, startServe } from "../test/serve/_server.ts";

/** What one load run measured. */
export interface LoadResult {
  requests: number;
  errors: string[];
  written: number;
  /** Read during the run plus drained afterwards. */
  read: number;
  duplicates: number;
  missing: number;
  wrongBodies: number;
  seconds: number;
  /** Request latencies in ms: p50, p95, p99, max. */
  latency: { p50: number; p95: number; p99: number; max: number };
}

/** Drive `url` (a running `broker serve`) with `clients` clients and `requests` requests on `queue`. */
export async function runLoad(url: string, clients: number, requests: number, queue = "load"): Promise<LoadResult> {
  const base = `${url}api/queues/${queue}`;
  const bodies = new Map<string, string>(); // id → body written
  const reads = new Map<string, number>(); // id → times read
  const readBodies = new Map<string, string>();
  const errors: string[] = [];
  const latencies: number[] = [];
  const claim = async (): Promise<boolean> => {
    const res = await fetch(`${base}/read`, { method: "POST" });
    if (res.status === 204) return false;
    if (res.status !== 200) throw new Error(`read: ${res.status} ${await res.text()}`);
    const m = (await res.json()) as { id: string; body: string };
    reads.set(m.id, (reads.get(m.id) ?? 0) + 1);
    readBodies.set(m.id, m.body);
    return true;
  };
  const client = async (c: number, count: number) => {
    const random = seededRandom(c + 1);
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      try {
        if (random() < 0.5) {
          const body = `client ${c} message ${i}`;
          const res = await fetch(`${base}/messages`, { method: "POST", body });
          if (res.status !== 201) throw new Error(`write: ${res.status} ${await res.text()}`);
          bodies.set(((await res.json()) as { id: string }).id, body);
        } else {
          await claim();
        }
      } catch (error) {
        errors.push(String(error));
      }
      latencies.push(performance.now() - t0);
    }
  };
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, (_, c) => client(c, Math.floor(requests / clients) + (c < requests % clients ? 1 : 0))),
  );
  const seconds = (performance.now() - start) / 1000;
  while (await claim()); // drain what is left
  let duplicates = 0;
  let wrongBodies = 0;
  for (const [id, n] of reads) {
    if (n > 1) duplicates++;
    if (bodies.has(id) && readBodies.get(id) !== bodies.get(id)) wrongBodies++;
  }
  let missing = 0;
  for (const id of bodies.keys()) if (!reads.has(id)) missing++;
  const sorted = latencies.sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  return {
    requests: latencies.length,
    errors,
    written: bodies.size,
    read: reads.size,
    duplicates,
    missing,
    wrongBodies,
    seconds,
    latency: { p50: pct(50), p95: pct(95), p99: pct(99), max: sorted.at(-1) ?? 0 },
  };
}

/** True when the run had no errors and every written message came out exactly once. */
export function exactlyOnce(r: LoadResult): boolean {
  return r.errors.length === 0 && r.duplicates === 0 && r.missing === 0 && r.wrongBodies === 0 && r.read === r.written;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      clients: { type: "string", default: "100" },
      requests: { type: "string", default: "10000" },
      backend: { type: "string", default: "sqlite" },
    },
  });
  const places: Record<string, () => Place> = { sqlite: sqlitePlace, postgres: postgresPlace, redis: redisPlace };
  const makePlace = places[values.backend];
  if (!makePlace) throw new Error(`--backend must be one of ${Object.keys(places).join(", ")}`);
  if (values.backend === "postgres") process.env.BROKER_TEST_POSTGRES_URL ??= "postgres://postgres@127.0.0.1:5432/test";
  if (values.backend === "redis") process.env.BROKER_TEST_REDIS_URL ??= "redis://127.0.0.1:6379/0";
  await using place = makePlace();
  await using server = await startServe(place);
  const clients = Number(values.clients);
  const requests = Number(values.requests);
  const r = await runLoad(server.url, clients, requests);
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  console.log(
    `broker serve on ${place.label}, 127.0.0.1: ${clients} clients, ${r.requests} requests in ${r.seconds.toFixed(2)} s (${Math.round(r.requests / r.seconds)} req/s)`,
  );
  console.log(
    `  written ${r.written}, read ${r.read} (duplicates ${r.duplicates}, missing ${r.missing}, wrong bodies ${r.wrongBodies}), errors ${r.errors.length}`,
  );
  console.log(`  latency p50 ${ms(r.latency.p50)}, p95 ${ms(r.latency.p95)}, p99 ${ms(r.latency.p99)}, max ${ms(r.latency.max)}`);
  for (const e of r.errors.slice(0, 5)) console.log(`  error: ${e}`);
  const ok = exactlyOnce(r);
  console.log(ok ? "  OK: no errors, every written message read exactly once" : "  FAILED");
  process.exitCode = ok ? 0 : 1;
}
