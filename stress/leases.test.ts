/**
 * Guards docs/leases.md (leases and workers) under SIGKILL, on every backend
 * with leases: a SQLite file, a fresh PostgreSQL schema, a fresh Redis
 * namespace.
 *
 * Library round: N messages (300) are written; WORKERS worker processes
 * (stress/_lease-worker.ts: `AsyncQueue.process()`, on SQLite every other
 * one the synchronous `Queue.process()`; lease LEASE_MS, two handlers at
 * once) consume them, and every 20-60 ms one worker that has a
 * handler running (it said `h <id>` and not yet `e <id>` on stdout) is
 * SIGKILLed and replaced, for ROUNDS (100) kills. A handler sleeps 1-12 ms,
 * and one in 50 sleeps 1.5 leases, so its lease must be extended. When the queue runs low
 * before the last kill, more messages are written, so every kill hits a
 * worker with work. Then the survivors finish and get SIGTERM.
 *
 * How acks are counted: process() acks through `broker.leases.ack`, and the
 * worker wraps that one call, appending `a <id>` to the shared log before it
 * and `A <id> 1|0` after it (1 when the store says the message was deleted).
 * A SIGKILL can land between the ack's commit and the `A` line; such an ack
 * happened but was not seen. It is recognised soundly: the message is gone
 * from the queue, its last log line is an `a` of a worker this test killed,
 * with no handler run after it (a message whose ack did not commit is
 * delivered again after its lease, so it would have a later run and a later
 * ack). So: acks = seen acks + acks in the kill window, and that must equal
 * the messages written.
 *
 * At the end, for every backend:
 *   - the queue and its dead-letter queue are empty: nothing pending, leased or scheduled;
 *   - every written id ran its handler at least once (side effects are
 *     at least once: docs/leases.md#the-model), and no unknown id ran;
 *   - no (id, attempt) pair ran twice (a lease is never handed out twice);
 *   - no message was acked twice, and none ran again after its ack;
 *   - acks (seen + kill window) = messages written: none lost; a killed
 *     worker has at most CONCURRENCY acks in its kill window (it never had
 *     more messages in hand);
 *   - no worker ended unless killed, the survivors exit 0 on SIGTERM, and
 *     no worker (killed ones included) reported a store error on stderr.
 *
 * CLI round: `broker watch Q --lease 1s --exec CMD` (CMD logs the id and
 * attempt, then sleeps) is SIGKILLed CLI_KILLS times while a command runs,
 * restarted, and left to finish: the queue ends empty, every id ran, no
 * (id, attempt) ran twice.
 *
 * One summary line per round. STRESS_SEED, STRESS_ROUNDS and STRESS_LEASE_MS
 * (the workers' lease, ms) override.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SQL } from "bun";
import { openBroker } from "../lib/queue/open.ts";
import type { Broker } from "../lib/queue/broker.ts";
import { type LogLine, readLog, type Remaining, remaining, groupLog } from "./_lease-log.ts";
import { CLI, childEnv, readLines, seededRandom, tempDir, uniqueName } from "../test/helpers.ts";
import { postgresUrl, redisUrl, unlinkRedisKeys } from "../test/services.ts";

const WORKER = resolve(import.meta.dir, "_lease-worker.ts");
const ROUNDS = Number(process.env.STRESS_ROUNDS ?? 100);
const SEED = Number(process.env.STRESS_SEED ?? 0x1ea5e) >>> 0;
const MESSAGES = 300;
const TOP_UP = 100;
const WORKERS = 4;
const CONCURRENCY = 2;
const LEASE_MS = Number(process.env.STRESS_LEASE_MS ?? 400);
const CLI_MESSAGES = 40;
const CLI_KILLS = 5;
const QUEUE = "jobs";

interface Spec {
  kind: "sqlite" | "postgres" | "redis";
  /** What the worker gets (JSON). */
  target: { path?: string; url?: string; schema?: string; namespace?: string };
  /** The CLI's environment and leading arguments for the same store. */
  cliEnv: Record<string, string>;
  cliArgs: string[];
}

const dir = tempDir("sb-leases-stress-");
const pgUrl = await postgresUrl();
const redis = await redisUrl();
const schemas: string[] = [];
const namespaces: string[] = [];

afterAll(async () => {
  if (schemas.length) {
    const admin = new SQL(pgUrl, { max: 1 });
    for (const s of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin.close();
  }
  for (const ns of namespaces) await unlinkRedisKeys(redis, `simplebroker:${ns}:*`);
  dir[Symbol.dispose]();
});

function spec(kind: Spec["kind"]): Spec {
  const name = uniqueName(`sblease${kind}`);
  if (kind === "sqlite") {
    const file = `${name}.db`;
    return { kind, target: { path: join(dir.path, file) }, cliEnv: {}, cliArgs: ["-d", dir.path, "-f", file] };
  }
  const url = kind === "postgres" ? pgUrl : redis;
  if (kind === "postgres") schemas.push(name);
  else namespaces.push(name);
  return {
    kind,
    target: kind === "postgres" ? { url, schema: name } : { url, namespace: name },
    cliEnv: { BROKER_BACKEND: kind, BROKER_BACKEND_TARGET: url, BROKER_BACKEND_SCHEMA: name },
    cliArgs: [],
  };
}

async function open(s: Spec): Promise<Broker> {
  const t = s.target;
  const broker = t.path
    ? await openBroker(t.path)
    : await openBroker(t.url!, t.schema ? { schema: t.schema } : { namespace: t.namespace });
  await broker.init();
  return broker;
}

for (const kind of ["sqlite", "postgres", "redis"] as const) {
  describe(`${kind}: leased workers killed with SIGKILL`, () => {
    test(`${ROUNDS} kills of process() workers mid-handler: every message acked once, none lost`, async () => {
      const r = await killRounds(spec(kind));
      console.log(
        `leases ${kind}: rounds ${ROUNDS}, kills ${r.kills} (${r.midHandler} with a handler reported running), messages ${r.messages}, ` +
          `handler runs ${r.runs}, redeliveries ${r.runs - r.ran}, acks ${r.acks} (${r.windowAcks} in the kill window, ` +
          `${r.refusedAcks} refused after the lease ended), lost ${r.lost.length}, duplicated acks ${r.duplicatedAcks.length}, ` +
          `${(r.ms / 1000).toFixed(1)} s`,
      );
      expect(r.kills).toBe(ROUNDS);
      expect(r.remaining).toEqual({ pending: 0, leased: 0, scheduled: 0, dead: 0 });
      expect(r.neverRan).toEqual([]);
      expect(r.unknown).toEqual([]);
      expect(r.twiceLeased).toEqual([]);
      expect(r.duplicatedAcks).toEqual([]);
      expect(r.ranAfterAck).toEqual([]);
      expect(r.lost).toEqual([]);
      expect(r.acks).toBe(r.messages);
      expect(r.overfullWindows).toEqual([]);
      expect(r.survivorExits).toEqual(r.survivorExits.map(() => 0));
      expect(r.errors).toEqual([]);
      expect(r.crashed).toEqual([]);
    }, 300_000);

    test(`broker watch --lease 1s --exec, SIGKILLed ${CLI_KILLS} times mid-command: queue drained, every message ran`, async () => {
      const r = await cliRound(spec(kind));
      console.log(
        `leases ${kind} cli watch --exec: kills ${r.kills}, messages ${r.messages}, runs ${r.runs}, ` +
          `redeliveries ${r.runs - r.ran}, lost ${r.neverRan.length}, ${(r.ms / 1000).toFixed(1)} s`,
      );
      expect(r.kills).toBe(CLI_KILLS);
      expect(r.remaining).toEqual({ pending: 0, leased: 0, scheduled: 0, dead: 0 });
      expect(r.neverRan).toEqual([]);
      expect(r.unknown).toEqual([]);
      expect(r.twiceLeased).toEqual([]);
      expect(r.exit).toBe(0);
    }, 120_000);
  });
}

// --- the library round ---

class WorkerProc {
  readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  readonly running = new Set<string>();
  readonly ended = new Set<string>();
  readonly stderr: string[] = [];
  readonly done: Promise<void>;

  constructor(s: Spec, log: string, seed: number, api: "async" | "sync") {
    const proc = Bun.spawn(
      [process.execPath, WORKER, JSON.stringify(s.target), QUEUE, log, String(LEASE_MS), String(CONCURRENCY), String(seed), api],
      { env: childEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    this.proc = proc;
    const out = (async () => {
      for await (const line of readLines(proc.stdout)) {
        const [what, id] = line.split(" ");
        if (what === "h") this.running.add(id!);
        else if (what === "e") {
          this.running.delete(id!);
          this.ended.add(id!);
        }
      }
    })();
    const err = (async () => {
      for await (const line of readLines(proc.stderr)) this.stderr.push(line);
    })();
    this.done = Promise.all([out, err, proc.exited]).then(() => {});
  }
}

/** Wait until nothing is pending or held (survivors finish; stranded leases run out and are taken again). */
async function drained(broker: Broker, timeoutMs: number): Promise<Remaining> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const r = await remaining(broker, QUEUE);
    if ((r.pending === 0 && r.leased === 0 && r.scheduled === 0) || performance.now() > until) return r;
    await Bun.sleep(100);
  }
}

async function killRounds(s: Spec) {
  const started = performance.now();
  const rand = seededRandom(SEED ^ s.kind.length);
  const log = join(dir.path, `${uniqueName(s.kind)}.log`);
  const broker = await open(s);
  try {
    const written = new Set<string>();
    const writeBatch = async (n: number) => {
      const bodies = Array.from({ length: n }, (_, i) => `job ${written.size + i}`);
      for (const id of await broker.write(QUEUE, bodies)) written.add(String(id));
    };
    await writeBatch(MESSAGES);

    let spawned = 0;
    // On SQLite every other worker runs the synchronous Queue's process().
    const spawn = () =>
      new WorkerProc(s, log, Math.floor(rand() * 2 ** 31), s.kind === "sqlite" && spawned++ % 2 === 1 ? "sync" : "async");
    const workers = Array.from({ length: WORKERS }, spawn);
    const killedPids = new Set<number>();
    const ended = new Set<string>();
    /** Workers gone (killed, or exited by themselves) and what they said on stderr. */
    const gone: WorkerProc[] = [];
    const crashed: string[] = [];
    let kills = 0;
    let midHandler = 0;
    const giveUp = performance.now() + 200_000;
    while (kills < ROUNDS) {
      if (performance.now() > giveUp) throw new Error(`only ${kills} kills before the time limit`);
      await Bun.sleep(20 + Math.floor(rand() * 40));
      // A worker that ended without being killed is a failure; it is replaced so the round goes on.
      for (const [i, w] of workers.entries()) {
        if (w.proc.exitCode === null && w.proc.signalCode === null) continue;
        crashed.push(`worker ${w.proc.pid} exited with ${w.proc.exitCode ?? w.proc.signalCode}`);
        await w.done;
        for (const id of w.ended) ended.add(id);
        gone.push(w);
        workers[i] = spawn();
      }
      const busy = workers.filter((w) => w.running.size > 0);
      if (busy.length === 0) continue;
      const i = workers.indexOf(busy[Math.floor(rand() * busy.length)]!);
      const victim = workers[i]!;
      victim.proc.kill("SIGKILL");
      killedPids.add(victim.proc.pid);
      kills++;
      if (victim.running.size > 0) midHandler++;
      await victim.done;
      for (const id of victim.ended) ended.add(id);
      gone.push(victim);
      workers[i] = spawn();
      // Keep work in the queue until the last kill.
      let handled = ended.size;
      for (const w of workers) handled += w.ended.size;
      if (written.size - handled < TOP_UP && kills < ROUNDS) await writeBatch(TOP_UP);
    }

    const left = await drained(broker, 60_000);
    for (const w of workers) w.proc.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.done));
    const survivorExits = workers.map((w) => w.proc.exitCode);
    const errors = [...gone, ...workers].flatMap((w) => w.stderr);
    const remainingAtEnd = { ...left, dead: (await remaining(broker, QUEUE)).dead };
    return {
      ...audit(readLog(log), written, killedPids),
      kills,
      midHandler,
      messages: written.size,
      remaining: remainingAtEnd,
      survivorExits,
      errors,
      crashed,
      ms: performance.now() - started,
    };
  } finally {
    await broker.close();
  }
}

/** The checks of the header comment, on the side-effect log. */
function audit(lines: LogLine[], written: Set<string>, killedPids: Set<number>) {
  const { byId, unknown } = groupLog(lines, written);
  const neverRan: string[] = [];
  const twiceLeased: string[] = [];
  const duplicatedAcks: string[] = [];
  const ranAfterAck: string[] = [];
  const lost: string[] = [];
  const windowByPid = new Map<number, number>();
  let acks = 0;
  let windowAcks = 0;
  let refusedAcks = 0;
  let runs = 0;
  for (const id of written) {
    const list = byId.get(id) ?? [];
    const handled = list.filter((l) => l.kind === "H");
    runs += handled.length;
    if (handled.length === 0) neverRan.push(id);
    const attempts = new Set(handled.map((l) => l.attempt));
    if (attempts.size !== handled.length) twiceLeased.push(id);
    const seen = list.filter((l) => l.kind === "A" && l.ok).length;
    refusedAcks += list.filter((l) => l.kind === "A" && !l.ok).length;
    if (seen > 1) duplicatedAcks.push(id);
    const firstAck = list.findIndex((l) => l.kind === "A" && l.ok);
    if (firstAck >= 0 && list.slice(firstAck).some((l) => l.kind === "H")) ranAfterAck.push(id);
    if (seen > 0) {
      acks += seen;
      continue;
    }
    const last = list.at(-1);
    if (last?.kind === "a" && killedPids.has(last.pid)) {
      acks++;
      windowAcks++;
      windowByPid.set(last.pid, (windowByPid.get(last.pid) ?? 0) + 1);
    } else lost.push(id);
  }
  return {
    runs,
    ran: written.size - neverRan.length,
    unknown: [...unknown],
    neverRan,
    twiceLeased,
    duplicatedAcks,
    ranAfterAck,
    lost,
    acks,
    windowAcks,
    /** Killed workers with more acks in their kill window than handlers they could run at once. */
    overfullWindows: [...windowByPid].filter(([, n]) => n > CONCURRENCY).map(([pid]) => pid),
    refusedAcks,
  };
}

// --- the CLI round ---

async function cliRound(s: Spec) {
  const started = performance.now();
  const log = join(dir.path, `${uniqueName(`${s.kind}-cli`)}.log`);
  const broker = await open(s);
  try {
    const bodies = Array.from({ length: CLI_MESSAGES }, (_, i) => `cli ${i}`);
    const written = new Set((await broker.write(QUEUE, bodies)).map(String));
    const cmd = `printf 'H %s %s 0\\n' "$BROKER_MESSAGE_ID" "$BROKER_ATTEMPT" >> "$LEASE_LOG"; sleep 0.05`;
    const env = childEnv({ ...s.cliEnv, LEASE_LOG: log });
    const start = () =>
      Bun.spawn([process.execPath, CLI, ...s.cliArgs, "watch", QUEUE, "--lease", "1s", "--exec", cmd], {
        env,
        stdin: "ignore",
        stdout: "ignore",
        stderr: "pipe",
      });
    const logLines = () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").length - 1 : 0);
    let kills = 0;
    while (kills < CLI_KILLS) {
      const proc = start();
      const before = logLines();
      const until = performance.now() + 30_000;
      // Killed while its third command (or later) sleeps.
      while (logLines() < before + 3 && performance.now() < until) await Bun.sleep(10);
      await Bun.sleep(10);
      proc.kill("SIGKILL");
      await proc.exited;
      kills++;
    }
    const last = start();
    const stderr = (async () => {
      const lines: string[] = [];
      for await (const line of readLines(last.stderr)) lines.push(line);
      return lines;
    })();
    const left = await drained(broker, 60_000);
    last.kill("SIGTERM");
    const exit = await last.exited;
    await stderr;
    await Bun.sleep(100); // the orphaned commands of killed watches finish their sleep
    const a = audit(readLog(log), written, new Set());
    return {
      kills,
      messages: written.size,
      runs: a.runs,
      ran: a.ran,
      neverRan: a.neverRan,
      unknown: a.unknown,
      twiceLeased: a.twiceLeased,
      remaining: { ...left, dead: (await remaining(broker, QUEUE)).dead },
      exit,
      ms: performance.now() - started,
    };
  } finally {
    await broker.close();
  }
}
