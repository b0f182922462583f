/**
 * A watch whose server is down when it starts waits for it like any outage
 * (docs/outages.md#a-server-down-when-the-watch-starts): CLI `broker watch` (a queue and an @alias),
 * `broker watch @alias --exec`, library `QueueWatcher`s and a `watchQueue`
 * iterator, and a `process()` worker on an @alias, started while a private server is stopped, deliver
 * once it starts; each process prints one lost/reconnected pair however many
 * watchers it runs; BROKER_BACKEND_RECONNECT_TIMEOUT bounds the wait. The
 * shared servers are never stopped (test/_private-servers.ts).
 */
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { openBroker } from "../../lib/queue/open.ts";
import type { ConnectionEvent } from "../../lib/watch/reconnect.ts";
import { QueueWatcher } from "../../lib/watch/watcher.ts";
import type { PrivateServer } from "../_private-servers.ts";
import { privateServerHooks } from "../_private-server-hooks.ts";
import { uniqueName } from "../helpers.ts";
import { type LiveCli, spawnBun, spawnCli, waitFor } from "./_watch-outage-helpers.ts";
import { storeTarget } from "../services.ts";

const LOST = "warning: lost connection to";
const BACK = "reconnected to";
const WATCHERS = resolve(import.meta.dir, "_outage-watchers.ts");

for (const kind of ["postgres", "redis"] as const) {
  describe(`${kind}: a watch started while its server is down`, () => {
    let server: PrivateServer | undefined;
    privateServerHooks(kind, (s) => (server = s));

    function env(name: string, extra: Record<string, string> = {}): Record<string, string> {
      return { BROKER_BACKEND: kind, BROKER_BACKEND_TARGET: server!.url, BROKER_BACKEND_SCHEMA: name, ...extra };
    }

    test("CLI watch, QueueWatchers, watchQueue and process() wait, then deliver; one lost/reconnected pair per process", async () => {
      if (!server) return console.warn(`skipped: no ${kind} server binaries`);
      const name = uniqueName("so");
      const t = storeTarget(kind, server.url, name);
      const broker = await openBroker(t);
      await broker.backend.init();
      await broker.addAlias("al", "d");
      await broker.addAlias("work", "g");
      await broker.addAlias("ex", "h");
      await server.stop();
      const events: ConnectionEvent["state"][] = [];
      const got: string[] = [];
      const watcher = new QueueWatcher("e", (m) => void got.push(m.body), {
        db: t,
        onConnection: (e) => void events.push(e.state),
      });
      let started = false;
      const running = watcher.run();
      watcher.started.then(() => (started = true));
      const worked: string[] = [];
      const workerEvents: ConnectionEvent["state"][] = [];
      const stopWorker = new AbortController();
      const workerBroker = await openBroker(t);
      const working = workerBroker.queue("@work").process((job) => void worked.push(job.body), {
        signal: stopWorker.signal,
        onConnection: (e) => void workerEvents.push(e.state),
      });
      const procs: LiveCli[] = [
        spawnCli(["watch", "a"], env(name)),
        spawnCli(["watch", "@al", "--peek"], env(name)),
        spawnBun([WATCHERS, kind, server.url, name, "b", "c", "iter:f"], {}),
        spawnCli(["watch", "@ex", "--exec", "cat; echo"], env(name)),
      ];
      const t0 = performance.now();
      try {
        await waitFor(() => procs.every((p) => p.err.some((l) => l.includes(LOST))), 15_000, "lost lines").catch((e) => {
          throw new Error(`${e.message}: ${JSON.stringify(procs.map((p) => [p.err, p.proc.exitCode]))}`);
        });
        expect(procs.map((p) => p.proc.exitCode)).toEqual([null, null, null, null]);
        expect(started).toBe(false);
        await Bun.sleep(Math.max(0, 2000 - (performance.now() - t0)));
        await server.start();
        for (const q of ["a", "b", "c", "d", "e", "f", "g", "h"]) await broker.write(q, `${q}-1`);
        await waitFor(
          () =>
            procs[0]!.out.length === 1 &&
            procs[1]!.out.length === 1 &&
            procs[2]!.out.length === 3 &&
            procs[3]!.out.length === 1 &&
            got.length === 1,
          15_000,
          "deliveries",
        ).catch((e) => {
          throw new Error(`${e.message}: ${JSON.stringify(procs.map((p) => [p.out, p.err, p.proc.exitCode]))} ${got}`);
        });
        await waitFor(() => worked.length === 1, 15_000, "worker");
        expect(procs[0]!.out).toEqual(["a-1"]);
        expect(procs[1]!.out).toEqual(["d-1"]);
        expect(procs[2]!.out.sort()).toEqual(["b b-1", "c c-1", "f f-1"]);
        expect(procs[3]!.out).toEqual(["h-1"]);
        expect(got).toEqual(["e-1"]);
        expect(worked).toEqual(["g-1"]);
        expect(started).toBe(true);
        expect(events).toEqual(["lost", "restored"]);
        expect(workerEvents).toEqual(["lost", "restored"]);
        // Give a late second line the time to show up, then count: one pair per process, however many watchers.
        await Bun.sleep(300);
        for (const p of procs) {
          expect(p.proc.exitCode).toBeNull();
          expect(p.err.filter((l) => l.includes(LOST))).toHaveLength(1);
          expect(p.err.filter((l) => l.includes(BACK))).toHaveLength(1);
        }
      } finally {
        for (const p of procs) await p.stop();
        stopWorker.abort();
        await watcher.stop();
        await running.catch(() => {});
        await working.catch(() => {});
        await workerBroker.close();
        await broker.close();
      }
    }, 90_000);

    test("BROKER_BACKEND_RECONNECT_TIMEOUT=1: the CLI watch exits 1 with one error line, a library watcher fails", async () => {
      if (!server) return console.warn(`skipped: no ${kind} server binaries`);
      const name = uniqueName("st");
      await server.stop();
      const procs = [
        spawnCli(["watch", "a"], env(name, { BROKER_BACKEND_RECONNECT_TIMEOUT: "1" })),
        spawnBun([WATCHERS, kind, server.url, name, "b", "c"], { BROKER_BACKEND_RECONNECT_TIMEOUT: "1" }),
      ];
      try {
        const codes = await Promise.race([
          Promise.all(procs.map((p) => p.proc.exited)),
          Bun.sleep(20_000).then(() => "still running"),
        ]);
        expect(codes).toEqual([1, 1]);
        for (const p of procs) {
          const errors = p.err.filter((l) => !l.startsWith("Watching queue") && !l.includes(LOST) && l.trim() !== "");
          expect(errors).toHaveLength(1);
          expect(errors[0]).toContain("BROKER_BACKEND_RECONNECT_TIMEOUT");
          expect(p.err.filter((l) => l.includes(LOST))).toHaveLength(1);
          expect(p.out).toEqual([]);
        }
      } finally {
        for (const p of procs) await p.stop();
        await server.start();
      }
    }, 60_000);
  });
}
