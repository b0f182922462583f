/**
 * Guards docs/outages.md#workers-and-leases: `process()` workers outlive a
 * server killed with SIGKILL. Against a private PostgreSQL cluster (fsync
 * on) and a private Redis server (append-only, `appendfsync always`) this
 * file starts itself (test/_private-servers.ts; the shared 5432/6379
 * servers are never touched): MESSAGES messages are written, WORKERS worker
 * processes (stress/_lease-worker.ts, `AsyncQueue.process()`, lease
 * LEASE_MS, two handlers at once) consume them, and the server is killed
 * with -9 twice mid-run (once a fifth of the messages were acked, then at
 * three fifths) and started again on the same port and data after 1-3 s.
 *
 * The side-effect log of the workers (see stress/_lease-worker.ts) tells
 * handler runs (`H`), acks about to be sent (`a`) and acks answered (`A`,
 * 1 when the message was deleted). An ack whose answer the dying server
 * never sent leaves an `a` with no `A`: if it committed, the message is
 * gone and nothing follows it in the log; if it did not, the lease runs out
 * and the message runs again. So every message must end with exactly one
 * answered ack (`A 1`), or with an unanswered `a` as its last line — never
 * both, never two.
 *
 * At the end: the queue and its dead-letter queue are empty (nothing
 * pending, leased or scheduled); every id ran, no unknown id ran; no
 * (id, attempt) ran twice; every message acked exactly once; both workers
 * still running after the outages, still taking work after the last
 * restart, and they exit 0 on SIGTERM. One summary line per backend.
 * STRESS_SEED overrides the seed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { openBroker } from "../lib/queue/open.ts";
import { type LogLine, readLog, type Remaining, remaining, groupLog } from "./_lease-log.ts";
import { childEnv, readLines, seededRandom, tempDir, uniqueName } from "../test/helpers.ts";
import type { PrivateServer } from "../test/_private-servers.ts";
import { privateServerHooks } from "../test/_private-server-hooks.ts";

const WORKER = resolve(import.meta.dir, "_lease-worker.ts");
const SEED = Number(process.env.STRESS_SEED ?? 0x0a7a6e) >>> 0;
const MESSAGES = 1500;
const WORKERS = 2;
const CONCURRENCY = 2;
const LEASE_MS = 1000;
const QUEUE = "jobs";
/** Kill the server once this share of the messages was acked (one outage each). */
const KILL_AT = [0.2, 0.6];

const dir = tempDir("sb-lease-outage-");
afterAll(() => dir[Symbol.dispose]());

for (const kind of ["postgres", "redis"] as const) {
  describe(`${kind}: process() workers outlive a server killed with -9`, () => {
    let server: PrivateServer | undefined;
    privateServerHooks(kind, (s) => (server = s), { fsync: true });

    test(`${KILL_AT.length} kills mid-run: every message acked exactly once, workers alive and draining`, async () => {
      if (!server) {
        console.warn(`skipped: no ${kind} server binaries on this machine`);
        return;
      }
      const r = await run(kind, server);
      console.log(
        `lease outage ${kind}: messages ${r.messages}, outages ${r.outages.map((ms) => `${ms} ms`).join(", ")}, ` +
          `handler runs ${r.audit.runs} (redeliveries ${r.audit.runs - r.audit.ran}), acks ${r.audit.acks} ` +
          `(${r.audit.unanswered} unanswered but committed, ${r.audit.refused} refused after the lease ended), ` +
          `acks after the last restart ${r.acksAfterLast}, lost ${r.audit.lost.length}, double acks ${r.audit.doubleAcks.length}, ` +
          `worker stderr lines ${r.stderr.length}, ${(r.ms / 1000).toFixed(1)} s`,
      );
      // What the workers said, each kind of line once (numbers blanked).
      for (const shape of new Set(r.stderr.map((l) => l.replace(/\d+/g, "N")))) console.log(`  worker stderr: ${shape}`);
      expect(r.remaining).toEqual({ pending: 0, leased: 0, scheduled: 0, dead: 0 });
      expect(r.audit.neverRan).toEqual([]);
      expect(r.audit.unknown).toEqual([]);
      expect(r.audit.twiceLeased).toEqual([]);
      expect(r.audit.lost).toEqual([]);
      expect(r.audit.doubleAcks).toEqual([]);
      expect(r.audit.ranAfterAck).toEqual([]);
      expect(r.audit.acks).toBe(r.messages);
      expect(r.aliveAfterOutages).toEqual([true, true]);
      expect(r.acksAfterLast).toBeGreaterThan(0);
      expect(r.exits).toEqual([0, 0]);
      expect(r.unexpectedStderr).toEqual([]);
    }, 240_000);
  });
}

// --- internal ---

async function run(kind: "postgres" | "redis", server: PrivateServer) {
  const started = performance.now();
  const rand = seededRandom(SEED ^ kind.length);
  const name = uniqueName(`sbleaseout${kind}`);
  const target = kind === "postgres" ? { url: server.url, schema: name } : { url: server.url, namespace: name };
  const log = join(dir.path, `${name}.log`);
  const broker = await openBroker(server.url, kind === "postgres" ? { schema: name } : { namespace: name });
  await broker.init();
  const bodies = Array.from({ length: MESSAGES }, (_, i) => `job ${i}`);
  const written = new Set((await broker.write(QUEUE, bodies)).map(String));
  await broker.close();

  const workers = Array.from({ length: WORKERS }, () => spawnWorker(target, log, Math.floor(rand() * 2 ** 31)));
  await Promise.all(workers.map((w) => w.ready));
  const answeredAcks = () => (existsSync(log) ? (readFileSync(log, "utf8").match(/^A \d+ 1 /gm)?.length ?? 0) : 0);

  const outages: number[] = [];
  for (const share of KILL_AT) {
    const until = performance.now() + 60_000;
    while (answeredAcks() < MESSAGES * share && performance.now() < until) await Bun.sleep(10);
    await server.kill();
    const downMs = 1000 + Math.floor(rand() * 2000);
    outages.push(downMs);
    await Bun.sleep(downMs);
    await server.start();
  }
  const acksAtLast = answeredAcks();
  const aliveAfterOutages = workers.map((w) => w.proc.exitCode === null && w.proc.signalCode === null);

  // Drained: nothing pending or held any more (a lease stranded by the outage runs out and is taken again).
  const check = await openBroker(server.url, kind === "postgres" ? { schema: name } : { namespace: name });
  let left: Remaining;
  const until = performance.now() + 90_000;
  for (;;) {
    left = await remaining(check, QUEUE);
    if ((left.pending === 0 && left.leased === 0 && left.scheduled === 0) || performance.now() > until) break;
    await Bun.sleep(100);
  }
  const acksAfterLast = answeredAcks() - acksAtLast;
  for (const w of workers) w.proc.kill("SIGTERM");
  await Promise.all(workers.map((w) => w.done));
  await check.close();
  const stderr = workers.flatMap((w) => w.stderr);
  return {
    messages: written.size,
    outages,
    remaining: left,
    audit: audit(readLog(log), written),
    aliveAfterOutages,
    acksAfterLast,
    exits: workers.map((w) => w.proc.exitCode),
    stderr,
    // The outage lines of the workers' guard, and jobs whose ack or release the outage interrupted, are expected.
    unexpectedStderr: stderr.filter((l) => !/lost connection to|reconnected to/.test(l) && !/^worker \d+: job \d+: /.test(l)),
    ms: performance.now() - started,
  };
}

function spawnWorker(target: object, log: string, seed: number) {
  const proc = Bun.spawn(
    [process.execPath, WORKER, JSON.stringify(target), QUEUE, log, String(LEASE_MS), String(CONCURRENCY), String(seed)],
    { env: childEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const stderr: string[] = [];
  let isReady: () => void = () => {};
  const ready = new Promise<void>((r) => (isReady = r));
  const out = (async () => {
    for await (const line of readLines(proc.stdout)) if (line === "ready") isReady();
    isReady();
  })();
  const err = (async () => {
    for await (const line of readLines(proc.stderr)) stderr.push(line);
  })();
  const done = Promise.all([out, err, proc.exited]).then(() => {});
  return { proc, ready, stderr, done };
}

/** The checks of the header comment, on the side-effect log. */
function audit(lines: LogLine[], written: Set<string>) {
  const { byId, unknown } = groupLog(lines, written);
  const neverRan: string[] = [];
  const twiceLeased: string[] = [];
  const doubleAcks: string[] = [];
  const ranAfterAck: string[] = [];
  const lost: string[] = [];
  let runs = 0;
  let acks = 0;
  let unanswered = 0;
  let refused = 0;
  for (const id of written) {
    const list = byId.get(id) ?? [];
    const handled = list.filter((l) => l.kind === "H");
    runs += handled.length;
    if (handled.length === 0) neverRan.push(id);
    if (new Set(handled.map((l) => l.attempt)).size !== handled.length) twiceLeased.push(id);
    refused += list.filter((l) => l.kind === "A" && !l.ok).length;
    const answered = list.filter((l) => l.kind === "A" && l.ok).length;
    const firstAck = list.findIndex((l) => l.kind === "A" && l.ok);
    if (firstAck >= 0 && list.slice(firstAck + 1).some((l) => l.kind === "H")) ranAfterAck.push(id);
    // An ack sent and never answered, as the last word on the message: it committed (the queue ends empty).
    const trailing = list.at(-1)?.kind === "a" ? 1 : 0;
    const total = answered + trailing;
    acks += total;
    unanswered += trailing;
    if (total === 0) lost.push(id);
    if (total > 1) doubleAcks.push(id);
  }
  return {
    runs,
    ran: written.size - neverRan.length,
    unknown: [...unknown],
    neverRan,
    twiceLeased,
    doubleAcks,
    ranAfterAck,
    lost,
    acks,
    unanswered,
    refused,
  };
}
