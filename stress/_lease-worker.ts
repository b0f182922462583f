/**
 * A worker process for stress/leases.test.ts: `process()` on one queue with
 * a short lease, until SIGTERM (or until the harness SIGKILLs it) — the
 * synchronous SQLite `Queue`'s when the last argument is `sync`, else
 * `AsyncQueue`'s (openBroker(...).queue(...)).
 *
 *     bun stress/_lease-worker.ts '<target JSON>' <queue> <log file> <leaseMs> <concurrency> <seed> [sync]
 *
 * target JSON: `{ "path": "/x.db" }`, `{ "url": "postgres://…", "schema": "s" }`
 * or `{ "url": "redis://…", "namespace": "n" }`.
 *
 * The side-effect log (opened O_APPEND, shared by every worker; one
 * `write(2)` per line, so lines of different processes never interleave):
 *   `H <id> <attempt> <pid>`  the handler ran (its side effect), written first thing;
 *   `a <id> <pid>`            process() is about to ack it (the handler returned);
 *   `A <id> <0|1> <pid>`      that ack returned: 1 = it deleted the message, 0 = the lease had ended.
 * The `a`/`A` lines come from a wrapper around `BrokerLeases.prototype.ack`,
 * the one call through which process() acks (lib/queue/_worker.ts; both
 * queue classes run their worker on a Broker's `leases`), so the acks
 * counted are process()'s own, not the handler's.
 *
 * stdout, for the harness to aim its kills: `ready`, then `h <id>` when a
 * handler starts and `e <id>` when it returns.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { openBroker } from "../lib/queue/open.ts";
import { Queue } from "../lib/queue/queue.ts";
import { BrokerLeases } from "../lib/queue/_broker-leases.ts";
import type { JobHandler, ProcessOptions, ProcessResult } from "../lib/queue/_worker.ts";
import { seededRandom } from "../test/helpers.ts";

const [targetJson, queue, logPath, leaseArg, concurrencyArg, seedArg, api] = process.argv.slice(2);
if (!targetJson || !queue || !logPath || !leaseArg || !concurrencyArg || !seedArg) {
  console.error("usage: _lease-worker.ts TARGET_JSON QUEUE LOG LEASE_MS CONCURRENCY SEED [sync]");
  process.exit(1);
}
const target = JSON.parse(targetJson) as { path?: string; url?: string; schema?: string; namespace?: string };
const rand = seededRandom(Number(seedArg));
const log = openSync(logPath, "a");
const pid = process.pid;
const leaseMs = Number(leaseArg);
const line = (text: string) => writeSync(log, `${text}\n`);
const say = (text: string) => process.stdout.write(`${text}\n`);

const ack = BrokerLeases.prototype.ack;
BrokerLeases.prototype.ack = async function (this: BrokerLeases, q: string, ids: readonly bigint[], token?: string) {
  for (const id of ids) line(`a ${id} ${pid}`);
  const done = new Set(await ack.call(this, q, ids, token));
  for (const id of ids) line(`A ${id} ${done.has(id) ? 1 : 0} ${pid}`);
  return [...done];
};

/** The queue's process(), and what to close after it. */
async function worker(): Promise<{
  run: (h: JobHandler, o: ProcessOptions) => Promise<ProcessResult>;
  close: () => Promise<void>;
}> {
  if (api === "sync") {
    const q = new Queue(queue!, { dbPath: target.path });
    return { run: (h, o) => q.process(h, o), close: async () => q.close() };
  }
  const broker = target.path
    ? await openBroker(target.path)
    : await openBroker(target.url!, target.schema ? { schema: target.schema } : { namespace: target.namespace });
  return { run: (h, o) => broker.queue(queue!).process(h, o), close: () => broker.close() };
}

const w = await worker();
const stop = new AbortController();
process.on("SIGTERM", () => stop.abort());
say("ready");
const result = await w.run(
  async (job) => {
    line(`H ${job.ts} ${job.attempt} ${pid}`);
    say(`h ${job.ts}`);
    // One handler in 50 outlives its first lease: process() must extend it.
    await Bun.sleep(rand() < 0.02 ? Math.ceil(leaseMs * 1.5) : 1 + Math.floor(rand() * 12));
    say(`e ${job.ts}`);
  },
  {
    signal: stop.signal,
    leaseMs,
    concurrency: Number(concurrencyArg),
    maxAttempts: Number.POSITIVE_INFINITY,
    onError: (error, job) => console.error(`worker ${pid}: job ${job.ts}: ${error instanceof Error ? error.message : error}`),
  },
);
await w.close();
closeSync(log);
say(`done ${result.acked} ${result.failed} ${result.deadLettered}`);
