/**
 * One outage round against a private server (test/_private-servers.ts),
 * shared by stress/outage.test.ts and bench/outage.ts: a writer loop writes
 * to two queues while a `broker watch` subprocess consumes one and a library
 * `QueueWatcher` the other; the server is stopped (or killed with -9) for
 * `seconds`, then started again on the same port and data; the report says
 * what was lost or duplicated, how long after the server's return each
 * watcher delivered again, and the write-to-delivery latency once the
 * server has been back a while (docs/outages.md).
 */
import { QueueWatcher } from "../lib/watch/watcher.ts";
import { openBroker } from "../lib/queue/open.ts";
import type { Broker } from "../lib/queue/broker.ts";
import { childEnv, CLI, eachLine, uniqueName, waitFor } from "./helpers.ts";
import type { PrivateServer } from "./_private-servers.ts";
import { storeTarget } from "./services.ts";

/** Writes this long after the server's return count for the steady-state latency (wake-ups re-established). */
export const STEADY_AFTER_MS = 1500;
/** Pause between two writes of the writer loop. */
const WRITE_EVERY_MS = 20;

interface Delivery {
  body: string;
  at: number;
}

/** What one watcher saw in a round. */
export interface WatcherReport {
  delivered: number;
  alive: boolean;
  /** From the server's return to this watcher's first delivery, ms. */
  recoveryMs: number | undefined;
  /** Write-to-delivery latency of writes made STEADY_AFTER_MS after the server's return, ms. */
  steadyMaxMs: number;
  steadyP50Ms: number;
}

/** What one round measured. */
export type OutageReport = Awaited<ReturnType<typeof runOutage>>;
export async function runOutage(kind: "postgres" | "redis", server: PrivateServer, seconds: number, how: "stop" | "kill") {
  const name = uniqueName("outage");
  const target = storeTarget(kind, server.url, name);
  const env = childEnv({
    BROKER_BACKEND: kind,
    BROKER_BACKEND_TARGET: server.url,
    BROKER_BACKEND_SCHEMA: name,
  });
  const writer = await openBroker(target);
  await writer.backend.init();

  // The CLI watcher, on queue "cli".
  const cliSeen: Delivery[] = [];
  const stderrLines: string[] = [];
  const proc = Bun.spawn([process.execPath, CLI, "watch", "cli"], { env, stdout: "pipe", stderr: "pipe" });
  const cliOut = eachLine(proc.stdout, (l) => cliSeen.push({ body: l, at: performance.now() }));
  const cliErr = eachLine(proc.stderr, (l) => stderrLines.push(l));

  // The library watcher, on queue "lib".
  const libSeen: Delivery[] = [];
  const libEvents: string[] = [];
  const watcher = new QueueWatcher("lib", (m) => void libSeen.push({ body: m.body, at: performance.now() }), {
    db: target,
    onConnection: (e) => void libEvents.push(e.state),
  }).start();
  await watcher.started;
  await waitFor(() => stderrLines.some((l) => l.startsWith("Watching queue")), 15_000, "the CLI watcher started", 25);

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
  await waitFor(seenAll, 20_000, "every message seen", 25).catch(() => {});
  await Bun.sleep(300); // a late duplicate would show up here

  const cliAlive = proc.exitCode === null;
  const libAlive = watcher.isRunning;
  proc.kill("SIGTERM");
  await proc.exited;
  await Promise.all([cliOut, cliErr]);
  await watcher.stop();

  // Wake-ups are back too: once the server has been up a while, each message arrives soon after its write.
  const steady = (seen: Delivery[]) =>
    seen
      .filter((d) => (ackedAt.get(d.body) ?? 0) > back + STEADY_AFTER_MS)
      .map((d) => d.at - ackedAt.get(d.body)!)
      .sort((a, b) => a - b);
  const all = [...cliSeen, ...libSeen].map((d) => d.body);
  const counts = new Map<string, number>();
  for (const b of all) counts.set(b, (counts.get(b) ?? 0) + 1);
  const firstAfter = (seen: Delivery[]) => seen.find((d) => d.at >= back)?.at;
  const recovery = (seen: Delivery[]) => {
    const at = firstAfter(seen);
    return at === undefined ? undefined : Math.round(at - back);
  };
  const watcherReport = (seen: Delivery[], alive: boolean): WatcherReport => {
    const latencies = steady(seen);
    return {
      delivered: seen.length,
      alive,
      recoveryMs: recovery(seen),
      steadyMaxMs: Math.round(latencies.at(-1) ?? 0),
      steadyP50Ms: Math.round(latencies[Math.floor(latencies.length / 2)] ?? 0),
    };
  };
  return {
    acknowledged: acknowledged.length,
    failedWrites,
    lost: [...expected].filter((b) => !counts.has(b)).length,
    duplicated: [...counts.values()].filter((c) => c > 1).length,
    cli: watcherReport(cliSeen, cliAlive),
    lib: watcherReport(libSeen, libAlive),
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

export function fmt(ms: number | undefined): string {
  return ms === undefined ? "none" : `${ms} ms`;
}
