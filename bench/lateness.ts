/**
 * Delayed delivery lateness (docs/leases.md#delayed-delivery): MESSAGES
 * delayed messages are written with due times spread at random over
 * SPREAD_MS, and a worker (`AsyncQueue.process()`, its own broker and
 * connection) consumes them. For each message: lateness = the time its
 * handler starts − its due time. Prints p50/p99/max lateness, the number
 * of early deliveries (lateness < 0; must be 0) and of messages not
 * delivered once, per backend, then a verdict against the target
 * "p99 < 50 ms on an idle machine" with the load average it ran under.
 *
 *     bun bench/lateness.ts [sqlite] [postgres] [redis]    (default: all three)
 *
 * BROKER_TEST_POSTGRES_URL / BROKER_TEST_REDIS_URL name the servers (default:
 * the local test ones); a backend whose server does not answer is skipped.
 * Every store it makes (a temporary file, a fresh schema or namespace) is
 * removed at the end.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { openBroker } from "../lib/queue/open.ts";
import type { Broker } from "../lib/queue/broker.ts";

const MESSAGES = 500;
const SPREAD_MS = 5_000;
/** Time left for the writes before the first message falls due. */
const LEAD_MS = 1_500;
const CONCURRENCY = 8;
const TARGET_P99_MS = 50;
const QUEUE = "later";

type Kind = "sqlite" | "postgres" | "redis";

interface Result {
  kind: Kind;
  delivered: number;
  early: number;
  duplicated: number;
  missing: number;
  lateness: number[];
  /** The last write finished after the first due time (the spread started late). */
  writesOverran: boolean;
}

const now = () => performance.timeOrigin + performance.now();

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function openPair(kind: Kind, dir: string): Promise<[Broker, Broker]> {
  const name = `bench_lateness_${process.pid}_${Date.now().toString(36)}`;
  const open = () => {
    if (kind === "sqlite") return openBroker(join(dir, "lateness.db"));
    if (kind === "postgres") {
      return openBroker(process.env.BROKER_TEST_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/test", { schema: name });
    }
    return openBroker(process.env.BROKER_TEST_REDIS_URL || "redis://127.0.0.1:6379/0", { namespace: name });
  };
  const writer = await open();
  await writer.init();
  return [writer, await open()];
}

async function measure(kind: Kind, writer: Broker, consumer: Broker): Promise<Result> {
  const start = Date.now() + LEAD_MS;
  const due = new Map<string, number>();
  const q = writer.queue(QUEUE);
  for (let i = 0; i < MESSAGES; i++) {
    const at = start + Math.floor(Math.random() * SPREAD_MS);
    const body = `m${i}`;
    due.set(body, at);
    await q.write(body, { at });
  }
  const writesOverran = Date.now() >= start;

  const seen = new Map<string, number>();
  const lateness: number[] = [];
  let early = 0;
  const stop = new AbortController();
  const timeout = setTimeout(() => stop.abort(), LEAD_MS + SPREAD_MS + 10_000);
  await consumer.queue(QUEUE).process(
    (job) => {
      const late = now() - due.get(job.body)!;
      if (late < 0) early++;
      lateness.push(late);
      seen.set(job.body, (seen.get(job.body) ?? 0) + 1);
      if (seen.size === MESSAGES) stop.abort();
    },
    { signal: stop.signal, concurrency: CONCURRENCY, leaseMs: 30_000 },
  );
  clearTimeout(timeout);
  return {
    kind,
    delivered: lateness.length,
    early,
    duplicated: [...seen.values()].filter((n) => n > 1).length,
    missing: MESSAGES - seen.size,
    lateness: lateness.sort((a, b) => a - b),
    writesOverran,
  };
}

const wanted = (process.argv.slice(2) as Kind[]).filter((k) => ["sqlite", "postgres", "redis"].includes(k));
const kinds: Kind[] = wanted.length ? wanted : ["sqlite", "postgres", "redis"];
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");
console.log(
  `lateness bench: ${MESSAGES} delayed messages due over ${SPREAD_MS / 1000} s per backend, process() concurrency ${CONCURRENCY}; load average ${load(loadavg())}`,
);
const results: Result[] = [];
for (const kind of kinds) {
  const dir = mkdtempSync(join(tmpdir(), "sb-lateness-"));
  let pair: [Broker, Broker] | undefined;
  try {
    pair = await openPair(kind, dir);
    const r = await measure(kind, ...pair);
    results.push(r);
    const l = r.lateness.length ? r.lateness : [Number.NaN];
    console.log(
      `${kind}: delivered ${r.delivered}, early ${r.early}, duplicated ${r.duplicated}, missing ${r.missing}, ` +
        `lateness p50 ${percentile(l, 50).toFixed(1)} ms, p99 ${percentile(l, 99).toFixed(1)} ms, max ${l.at(-1)!.toFixed(1)} ms` +
        (r.writesOverran ? " (the writes ran past the first due time)" : ""),
    );
  } catch (error) {
    console.log(`${kind}: skipped (${error instanceof Error ? error.message.split("\n")[0] : error})`);
  } finally {
    if (pair) {
      if (kind !== "sqlite") await pair[0].cleanup().catch(() => {});
      await pair[1].close();
      await pair[0].close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
const worst = Math.max(...results.map((r) => (r.lateness.length ? percentile(r.lateness, 99) : Number.NaN)));
const wrong = results.filter((r) => r.early > 0 || r.duplicated > 0 || r.missing > 0).map((r) => r.kind);
console.log(
  `verdict: worst p99 ${worst.toFixed(1)} ms ${worst < TARGET_P99_MS ? "<" : ">="} ${TARGET_P99_MS} ms target ` +
    `(${worst < TARGET_P99_MS ? "met" : "not met"}; the target is for an idle machine, load average now ${load(loadavg())}); ` +
    (wrong.length ? `WRONG DELIVERIES on ${wrong.join(", ")}` : "no early, duplicated or missing delivery"),
);
if (wrong.length) process.exitCode = 1;
