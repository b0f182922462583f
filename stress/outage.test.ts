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
import { describe, expect, test } from "bun:test";
import { fmt, runOutage } from "../test/_outage-run.ts";
import type { PrivateServer } from "../test/_private-servers.ts";
import { privateServerHooks } from "../test/_private-server-hooks.ts";

const OUTAGES: Array<{ seconds: number; how: "stop" | "kill" }> = [
  { seconds: 1, how: "stop" },
  { seconds: 5, how: "kill" },
  ...(process.env.STRESS_OUTAGE_LONG === "1" ? [{ seconds: 20, how: "stop" as const }] : []),
];
for (const kind of ["postgres", "redis"] as const) {
  describe(`${kind}: watchers outlive outages`, () => {
    let server: PrivateServer | undefined;
    privateServerHooks(kind, (s) => (server = s));

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
