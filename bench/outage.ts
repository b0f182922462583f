/**
 * Recovery from server outages (docs/outages.md). For PostgreSQL and Redis,
 * each on a private server this script starts and removes itself
 * (test/_private-servers.ts; the shared servers are never touched), and for
 * each outage (1 s and 5 s, the server stopped or killed with -9): a writer
 * loop writes every 20 ms to two queues, a `broker watch` subprocess
 * consumes one and a library `QueueWatcher` the other, the server goes away
 * and comes back on the same port and data (test/_outage-run.ts).
 *
 * One row per backend, outage and watcher: the time from the server's
 * return to the watcher's first delivery, the write-to-delivery latency
 * (p50 and max) of the writes made once the server had been back 1.5 s,
 * and the messages lost and duplicated (both must be 0; the script exits 1
 * otherwise).
 *
 *     bun bench/outage.ts [postgres] [redis]    (default: both)
 */
import { loadavg } from "node:os";
import { fmt, type OutageReport, runOutage, STEADY_AFTER_MS } from "../test/_outage-run.ts";
import { type PrivateServer, privatePostgres, privateRedis } from "../test/_private-servers.ts";

const OUTAGES: Array<{ seconds: number; how: "stop" | "kill" }> = [
  { seconds: 1, how: "stop" },
  { seconds: 1, how: "kill" },
  { seconds: 5, how: "stop" },
  { seconds: 5, how: "kill" },
];

const asked = process.argv.slice(2);
const kinds = (["postgres", "redis"] as const).filter((k) => asked.length === 0 || asked.includes(k));

const rows: string[][] = [];
let bad = 0;
for (const kind of kinds) {
  const server: PrivateServer | undefined = kind === "postgres" ? await privatePostgres() : await privateRedis();
  if (!server) {
    console.error(`${kind}: skipped, no server binaries on this machine`);
    continue;
  }
  try {
    for (const outage of OUTAGES) {
      const r: OutageReport = await runOutage(kind, server, outage.seconds, outage.how);
      if (r.lost !== 0 || r.duplicated !== 0 || !r.cli.alive || !r.lib.alive) bad++;
      for (const [who, w] of [
        ["broker watch", r.cli],
        ["QueueWatcher", r.lib],
      ] as const) {
        rows.push([
          kind,
          `${outage.how} ${outage.seconds} s`,
          who,
          fmt(w.recoveryMs),
          `${w.steadyP50Ms} ms`,
          `${w.steadyMaxMs} ms`,
          String(w.delivered),
          String(r.lost),
          String(r.duplicated),
          w.alive ? "yes" : "NO",
        ]);
      }
      console.error(`${kind} ${outage.how} ${outage.seconds} s: done`);
    }
  } finally {
    await server.destroy();
  }
}

const header = [
  "backend",
  "outage",
  "watcher",
  "return→first delivery",
  `latency p50 (>${STEADY_AFTER_MS / 1000} s after)`,
  "latency max",
  "delivered",
  "lost",
  "duplicated",
  "alive",
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const show = (cells: string[]) => console.log(cells.map((c, i) => c.padEnd(widths[i]!)).join("  "));
show(header);
for (const row of rows) show(row);
console.log(`load average ${loadavg()[0]!.toFixed(2)} (1 min), ${navigator.hardwareConcurrency} cores`);
if (bad > 0) {
  console.error(`${bad} outage(s) lost or duplicated messages, or a watcher died`);
  process.exit(1);
}
