/**
 * Guards docs/outages.md: watchers outlive server outages. Against a private
 * PostgreSQL cluster and a private Redis server this file starts itself
 * (test/_private-servers.ts; the shared 5432/6379 servers are never
 * touched), a writer loop writes to two queues while a `broker watch`
 * subprocess consumes one and a library `QueueWatcher` the other; the
 * server is stopped (or killed with -9) for 1 s and 5 s (20 s with
 * STRESS_OUTAGE_LONG=1), then started again on the same port and data.
 *
 * After each outage: every write the writer saw acknowledged was delivered
 * exactly once (0 lost, 0 duplicated), both watchers are still running, the
 * CLI said so at most once per outage (one "lost" line, one "reconnected"
 * line), and the time from the server's return to the first delivery of
 * each watcher is printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { QueueWatcher } from "../lib/watch/watcher.ts";
import { openBroker } from "../lib/queue/open.ts";
import type { Broker } from "../lib/queue/broker.ts";
import type { BrokerTarget } from "../lib/core/types.ts";
import { CLI, uniqueName } from "../test/helpers.ts";
import { type PrivateServer, privatePostgres, privateRedis } from "../test/_private-servers.ts";

const OUTAGES: Array<{ seconds: number; how: "stop" | "kill" }> = [
  { seconds: 1, how: "stop" },
  { seconds: 5, how: "kill" },
  ...(process.env.STRESS_OUTAGE_LONG === "1" ? [{ seconds: 20, how: "stop" as const }] : []),
];
/** Writes this long after the server's return count for the steady-state latency (wake-ups re-established). */
const STEADY_AFTER_MS = 1500;
/** Pause between two writes of the writer loop. */
const WRITE_EVERY_MS = 20;

interface Delivery {
  body: string;
  at: number;
}

for (const kind of ["postgres", "redis"] as const) {
  describe(`${kind}: watchers outlive outages`, () => {
    let server: PrivateServer | undefined;
    beforeAll(async () => {
      server = kind === "postgres" ? await privatePostgres() : await privateRedis();
    }, 60_000);
    afterAll(async () => {
      await server?.destroy();
    }, 60_000);

    for (const outage of OUTAGES) {
      test(`${outage.how} for ${outage.seconds} s: nothing lost or duplicated`, async () => {
        if (!server) {
          console.warn(`skipped: no ${kind} server binaries on this machine`);
          return;
        }
        const report = await runOutage(kind, server, outage.seconds, outage.how);
        console.log(
          `${kind} ${outage.how} ${outage.seconds}s: acknowledged ${report.acknowledged}, failed writes ${report.failedWrites}, ` +
            `delivered cli ${report.cli.delivered} lib ${report.lib.delivered}, lost ${report.lost}, duplicated ${report.duplicated}, ` +
            `recovery cli ${fmt(report.cli.recoveryMs)} lib ${fmt(report.lib.recoveryMs)}, ` +
            `max latency afterwards cli ${report.cli.steadyMaxMs} ms lib ${report.lib.steadyMaxMs} ms, cli stderr lost/reconnected ${report.lostLines}/${report.reconnectedLines}, lib events ${report.libEvents.join(",") || "none"}`,
        );
        expect(report.lost).toBe(0);
        expect(report.duplicated).toBe(0);
        expect(report.cli.recoveryMs ?? Infinity).toBeLessThan(1000);
        expect(report.lib.recoveryMs ?? Infinity).toBeLessThan(1000);
        expect(report.cli.alive).toBe(true);
        expect(report.lib.alive).toBe(true);
        // A short outage may pass unnoticed by an idle watcher; a longer one is reported, once.
        if (outage.seconds >= 5) {
          expect(report.lostLines).toBe(1);
          expect(report.libEvents).toEqual(["lost", "restored"]);
        }
        expect(report.lostLines).toBeLessThanOrEqual(1);
        expect(report.reconnectedLines).toBe(report.lostLines);
        expect(report.otherStderr).toEqual([]);
        expect(report.libEvents.filter((e) => e === "lost").length).toBeLessThanOrEqual(1);
      }, 180_000);
    }
  });
}

// --- internal ---

async function runOutage(kind: "postgres" | "redis", server: PrivateServer, seconds: number, how: "stop" | "kill") {
  const name = uniqueName("outage");
  const backendOptions = kind === "postgres" ? { schema: name } : { namespace: name };
  const target: BrokerTarget = {
    backendName: kind,
    target: server.url,
    backendOptions,
    projectRoot: null,
    configPath: null,
    usedProjectScope: false,
    legacySqlitePathMode: false,
  };
  const env: Record<string, string> = {
    ...cleanEnv(),
    BROKER_BACKEND: kind,
    BROKER_BACKEND_TARGET: server.url,
    BROKER_BACKEND_SCHEMA: name,
  };
  const writer = await openBroker(target);
  await writer.backend.init();

  // The CLI watcher, on queue "cli".
  const cliSeen: Delivery[] = [];
  const stderrLines: string[] = [];
  const proc = Bun.spawn([process.execPath, CLI, "watch", "cli"], { env, stdout: "pipe", stderr: "pipe" });
  const cliOut = lines(proc.stdout, (l) => cliSeen.push({ body: l, at: performance.now() }));
  const cliErr = lines(proc.stderr, (l) => stderrLines.push(l));

  // The library watcher, on queue "lib".
  const libSeen: Delivery[] = [];
  const libEvents: string[] = [];
  const watcher = new QueueWatcher("lib", (m) => void libSeen.push({ body: m.body, at: performance.now() }), {
    db: target,
    onConnection: (e) => void libEvents.push(e.state),
  }).start();
  await watcher.started;
  await waitFor(() => stderrLines.some((l) => l.startsWith("Watching queue")), 15_000);

  // The writer loop: a write counts once the store acknowledged it.
  const acknowledged: string[] = [];
  const ackedAt = new Map<string, number>();
  let failedWrites = 0;
  let writing = true;
  const loop = (async () => {
    for (let n = 0; writing; n++) {
      const queue = n % 2 === 0 ? "cli" : "lib";
      const body = `${queue}-${n}`;
      try {
        await write(writer, queue, body);
        acknowledged.push(body);
        ackedAt.set(body, performance.now());
      } catch {
        failedWrites++;
      }
      await Bun.sleep(WRITE_EVERY_MS);
    }
  })();

  await Bun.sleep(1500);
  if (how === "stop") await server.stop();
  else await server.kill();
  await Bun.sleep(seconds * 1000);
  await server.start();
  const back = performance.now();
  await Bun.sleep(3500);
  writing = false;
  await loop;
  await writer.close();

  // Everything acknowledged arrives (or 20 s pass).
  const expected = new Set(acknowledged);
  const seenAll = () => {
    const got = new Set([...cliSeen, ...libSeen].map((d) => d.body));
    return [...expected].every((b) => got.has(b));
  };
  await waitFor(seenAll, 20_000).catch(() => {});
  await Bun.sleep(300); // a late duplicate would show up here

  const cliAlive = proc.exitCode === null;
  const libAlive = watcher.isRunning;
  proc.kill("SIGTERM");
  await proc.exited;
  await Promise.all([cliOut, cliErr]);
  await watcher.stop();

  // Wake-ups are back too: once the server has been up a while, each message arrives soon after its write.
  const steady = (seen: Delivery[]) =>
    Math.round(
      Math.max(
        0,
        ...seen.filter((d) => (ackedAt.get(d.body) ?? 0) > back + STEADY_AFTER_MS).map((d) => d.at - ackedAt.get(d.body)!),
      ),
    );
  const all = [...cliSeen, ...libSeen].map((d) => d.body);
  const counts = new Map<string, number>();
  for (const b of all) counts.set(b, (counts.get(b) ?? 0) + 1);
  const firstAfter = (seen: Delivery[]) => seen.find((d) => d.at >= back)?.at;
  const recovery = (seen: Delivery[]) => {
    const at = firstAfter(seen);
    return at === undefined ? undefined : Math.round(at - back);
  };
  return {
    acknowledged: acknowledged.length,
    failedWrites,
    lost: [...expected].filter((b) => !counts.has(b)).length,
    duplicated: [...counts.values()].filter((c) => c > 1).length,
    cli: { delivered: cliSeen.length, alive: cliAlive, recoveryMs: recovery(cliSeen), steadyMaxMs: steady(cliSeen) },
    lib: { delivered: libSeen.length, alive: libAlive, recoveryMs: recovery(libSeen), steadyMaxMs: steady(libSeen) },
    lostLines: stderrLines.filter((l) => l.includes("warning: lost connection to")).length,
    reconnectedLines: stderrLines.filter((l) => l.includes("reconnected to")).length,
    otherStderr: stderrLines.filter(
      (l) => !l.startsWith("Watching queue") && !l.includes("lost connection to") && !l.includes("reconnected to"),
    ),
    libEvents,
  };
}

async function write(broker: Broker, queue: string, body: string): Promise<void> {
  const ids = await broker.write(queue, body);
  if (ids.length !== 1) throw new Error("not written");
}

/** Call `each` with every line of `stream`. */
async function lines(stream: ReadableStream<Uint8Array>, each: (line: string) => void): Promise<void> {
  let rest = "";
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    const parts = (rest + decoder.decode(bytes, { stream: true })).split("\n");
    rest = parts.pop()!;
    for (const l of parts) if (l) each(l);
  }
  if (rest) each(rest);
}

async function waitFor(ok: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms`);
    await Bun.sleep(25);
  }
}

function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("BROKER_")) env[k] = v;
  return env;
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? "none" : `${ms} ms`;
}
