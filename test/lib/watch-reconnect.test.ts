/**
 * Watchers wait out outages (docs/outages.md): the connection-loss predicate
 * on real driver errors, the retry guard, and watchers of every kind (CLI
 * consume/--peek/--move, QueueWatcher, QueueMoveWatcher, watchQueue) through
 * a stop and restart of private PostgreSQL and Redis servers this file
 * starts itself (test/_private-servers.ts; the shared servers are never
 * stopped).
 */
import { describe, expect, test } from "bun:test";
import { isConnectionLoss } from "../../lib/backends/connection-loss.ts";
import { ArgumentError, BackendError } from "../../lib/core/errors.ts";
import type { Message } from "../../lib/core/types.ts";
import { openBroker } from "../../lib/queue/open.ts";
import { type ConnectionEvent, OutageGuard, reconnectTimeoutSeconds } from "../../lib/watch/reconnect.ts";
import { QueueMoveWatcher, QueueWatcher, watchQueue } from "../../lib/watch/watcher.ts";
import { freePort, type PrivateServer } from "../_private-servers.ts";
import { privateServerHooks } from "../_private-server-hooks.ts";
import { uniqueName } from "../helpers.ts";
import { postgresUrl, storeTarget } from "../services.ts";
import { spawnCli, waitFor } from "./_watch-outage-helpers.ts";

const LOST = "warning: lost connection to";
const BACK = "reconnected to";

describe("isConnectionLoss", () => {
  test("true for a refused PostgreSQL connection, as the backend reports it", async () => {
    const broker = await openBroker(storeTarget("postgres", `postgres://postgres@127.0.0.1:${freePort()}/x`, "s"));
    const error = await broker.write("q", "x").catch((e: unknown) => e);
    await broker.close();
    expect(error).toBeInstanceOf(BackendError);
    expect(isConnectionLoss(error)).toBe(true);
  });

  test("true for a refused Redis connection, as the backend reports it", async () => {
    const broker = await openBroker(storeTarget("redis", `redis://127.0.0.1:${freePort()}/0`, "s"));
    const error = await broker.write("q", "x").catch((e: unknown) => e);
    await broker.close();
    expect(error).toBeInstanceOf(BackendError);
    expect(isConnectionLoss(error)).toBe(true);
  }, 15_000);

  test("false for a statement error, bad input and plain errors", async () => {
    const sql = new Bun.SQL(await postgresUrl(), { max: 1 });
    const error = await sql`SELECT * FROM no_such_table_for_reconnect_test`.catch((e: unknown) => e);
    await sql.close();
    expect(isConnectionLoss(error)).toBe(false);
    expect(isConnectionLoss(new BackendError("wrapped", { cause: error }))).toBe(false);
    expect(isConnectionLoss(new ArgumentError("bad"))).toBe(false);
    expect(isConnectionLoss(new Error("Connection closed"))).toBe(false);
    expect(isConnectionLoss(undefined)).toBe(false);
  });

  test("true for socket codes and the SQLSTATEs of a server going away, through causes", () => {
    for (const code of ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ERR_REDIS_CONNECTION_CLOSED"]) {
      expect(isConnectionLoss(new BackendError("x", { cause: Object.assign(new Error("y"), { code }) }))).toBe(true);
    }
    for (const errno of ["08006", "57P01", "57P03"]) expect(isConnectionLoss({ errno })).toBe(true);
    expect(isConnectionLoss({ errno: "42P01" })).toBe(false);
  });
});

describe("OutageGuard", () => {
  const refused = () => Object.assign(new Error("refused"), { code: "ECONNREFUSED" });

  test("retries a lost connection, reporting the outage once and its end once", async () => {
    const events: ConnectionEvent["state"][] = [];
    const guard = new OutageGuard("t", new AbortController().signal, (e) => void events.push(e.state), undefined);
    let calls = 0;
    const t0 = performance.now();
    const value = await guard.run(async () => {
      if (++calls <= 4) throw refused();
      return 42;
    });
    expect(value).toBe(42);
    expect(calls).toBe(5);
    expect(events).toEqual(["lost", "restored"]);
    // 100, 200, 400, 800 ms with jitter down to 75 %: the backoff doubles and is capped
    expect(performance.now() - t0).toBeGreaterThan(1000);
    expect(performance.now() - t0).toBeLessThan(2500);
  });

  test("passes other errors through at once", async () => {
    const guard = new OutageGuard("t", new AbortController().signal, () => {}, undefined);
    await expect(guard.run(async () => Promise.reject(new ArgumentError("bad")))).rejects.toThrow("bad");
  });

  test("gives up after the reconnect timeout with one line naming the setting", async () => {
    const guard = new OutageGuard("pg://x", new AbortController().signal, () => {}, 0.3);
    const t0 = performance.now();
    const error = (await guard.run(async () => Promise.reject(refused())).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(BackendError);
    expect(error.message).toContain("BROKER_BACKEND_RECONNECT_TIMEOUT");
    expect(error.message).not.toContain("\n");
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  test("ends quietly when stopped during an outage; a reporter answering false stops it", async () => {
    const stop = new AbortController();
    const guard = new OutageGuard("t", stop.signal, () => {}, undefined);
    setTimeout(() => stop.abort(), 150);
    expect(await guard.run(async () => Promise.reject(refused()))).toBeUndefined();
    const refusing = new OutageGuard("t", new AbortController().signal, () => false, undefined);
    await expect(refusing.run(async () => Promise.reject(refused()))).rejects.toThrow("refused");
    // A reporter that throws does not end the watch.
    const throwing = new OutageGuard(
      "t",
      new AbortController().signal,
      () => {
        throw new Error("reporter bug");
      },
      undefined,
    );
    let calls = 0;
    expect(await throwing.run(async () => (++calls < 2 ? Promise.reject(refused()) : "ok"))).toBe("ok");
  });

  test("BROKER_BACKEND_RECONNECT_TIMEOUT is seconds, unset means forever, nonsense is refused", () => {
    expect(reconnectTimeoutSeconds({})).toBeUndefined();
    expect(reconnectTimeoutSeconds({ BROKER_BACKEND_RECONNECT_TIMEOUT: "" })).toBeUndefined();
    expect(reconnectTimeoutSeconds({ BROKER_BACKEND_RECONNECT_TIMEOUT: "2.5" })).toBe(2.5);
    expect(() => reconnectTimeoutSeconds({ BROKER_BACKEND_RECONNECT_TIMEOUT: "soon" })).toThrow(
      "BROKER_BACKEND_RECONNECT_TIMEOUT",
    );
  });
});

for (const kind of ["postgres", "redis"] as const) {
  describe(`${kind}: watchers through a server restart`, () => {
    let server: PrivateServer | undefined;
    privateServerHooks(kind, (s) => (server = s));

    /** Stop the server for `seconds` (Redis: long enough for its client's own retries to give up), then start it. */
    async function outage(seconds = kind === "redis" ? 4.5 : 1.5): Promise<void> {
      await server!.stop();
      await Bun.sleep(seconds * 1000);
      await server!.start();
    }

    function env(name: string, extra: Record<string, string> = {}): Record<string, string> {
      return { BROKER_BACKEND: kind, BROKER_BACKEND_TARGET: server!.url, BROKER_BACKEND_SCHEMA: name, ...extra };
    }

    test("CLI watch, --peek and --move keep delivering, one warning line and one recovery line each", async () => {
      if (!server) return console.warn(`skipped: no ${kind} server binaries`);
      const name = uniqueName("rc");
      const broker = await openBroker(storeTarget(kind, server.url, name));
      await broker.backend.init();
      const watches = [
        spawnCli(["watch", "a"], env(name)),
        spawnCli(["watch", "b", "--peek"], env(name)),
        spawnCli(["watch", "c", "--move", "c_done"], env(name)),
      ];
      try {
        await waitFor(() => watches.every((w) => w.err.some((l) => l.startsWith("Watching queue"))), 15_000, "started");
        for (const q of ["a", "b", "c"]) await broker.write(q, `${q}-before`);
        await waitFor(() => watches.every((w) => w.out.length === 1), 10_000, "first deliveries");
        await outage();
        for (const q of ["a", "b", "c"]) await broker.write(q, `${q}-after`);
        await waitFor(() => watches.every((w) => w.out.length === 2), 10_000, "deliveries after the restart").catch((e) => {
          throw new Error(`${e.message}: ${JSON.stringify(watches.map((w) => [w.out, w.err, w.proc.exitCode]))}`);
        });
        expect(watches.map((w) => w.out)).toEqual([
          ["a-before", "a-after"],
          ["b-before", "b-after"],
          ["c-before", "c-after"],
        ]);
        expect((await broker.peek("c_done", { limit: 10 })).map((m) => m.body)).toEqual(["c-before", "c-after"]);
        for (const w of watches) {
          expect(w.proc.exitCode).toBeNull();
          expect(w.err.filter((l) => l.includes(LOST))).toHaveLength(1);
          expect(w.err.filter((l) => l.includes(BACK))).toHaveLength(1);
          expect(w.err.join("\n")).not.toContain("LISTEN");
        }
      } finally {
        for (const w of watches) await w.stop();
        await broker.close();
      }
    }, 60_000);

    test("BROKER_BACKEND_RECONNECT_TIMEOUT ends a CLI watch with exit 1 and one error line", async () => {
      if (!server) return console.warn(`skipped: no ${kind} server binaries`);
      const name = uniqueName("rt");
      const w = spawnCli(["watch", "a"], env(name, { BROKER_BACKEND_RECONNECT_TIMEOUT: "1" }));
      await waitFor(() => w.err.some((l) => l.startsWith("Watching queue")), 15_000, "started");
      await Bun.sleep(300);
      await server.stop();
      try {
        const code = await Promise.race([w.proc.exited, Bun.sleep(15_000).then(() => "still running")]);
        expect(code).toBe(1);
        const errors = w.err.filter((l) => !l.startsWith("Watching queue") && !l.includes(LOST));
        expect(errors).toHaveLength(1);
        expect(errors[0]).toContain("BROKER_BACKEND_RECONNECT_TIMEOUT");
      } finally {
        await w.stop();
        await server.start();
      }
    }, 60_000);

    test("QueueWatcher: errorHandler told once (retryable, no message), run() keeps running; false stops it", async () => {
      if (!server) return console.warn(`skipped: no ${kind} server binaries`);
      const t = storeTarget(kind, server.url, uniqueName("qw"));
      const broker = await openBroker(t);
      const got: string[] = [];
      const told: Array<{ retryable: boolean; message: Message | undefined }> = [];
      const watcher = new QueueWatcher("jobs", (m) => void got.push(m.body), {
        db: t,
        errorHandler: (error, message) => void told.push({ retryable: (error as BackendError).retryable, message }),
      });
      let settled = false;
      const running = watcher.run().finally(() => (settled = true));
      await watcher.started;
      await broker.write("jobs", "one");
      await waitFor(() => got.length === 1, 10_000, "first");
      await outage();
      await broker.write("jobs", "two");
      await waitFor(() => got.length === 2, 10_000, "after the restart");
      expect(got).toEqual(["one", "two"]);
      expect(told).toEqual([{ retryable: true, message: undefined }]);
      expect(settled).toBe(false);
      await watcher.stop();
      await running;

      // An errorHandler answering false ends the watcher at the outage, run() resolving.
      const stopping = new QueueWatcher("jobs", () => {}, { db: t, errorHandler: () => false });
      const ended = stopping.run();
      await stopping.started;
      await server.stop();
      try {
        await Promise.race([ended, Bun.sleep(15_000).then(() => Promise.reject(new Error("still running")))]);
        expect(stopping.isRunning).toBe(false);
      } finally {
        await server.start();
        await broker.close();
      }
    }, 90_000);

    test("QueueMoveWatcher and watchQueue report lost and restored through onConnection", async () => {
      if (!server) return console.warn(`skipped: no ${kind} server binaries`);
      const t = storeTarget(kind, server.url, uniqueName("mw"));
      const broker = await openBroker(t);
      const moved: string[] = [];
      const events: string[] = [];
      const mover = new QueueMoveWatcher("in", "out", (m) => void moved.push(m.body), {
        db: t,
        onConnection: (e) => void events.push(`move:${e.state}`),
      }).start();
      const iterated: string[] = [];
      const stop = new AbortController();
      const iterating = (async () => {
        for await (const m of watchQueue("feed", {
          target: t,
          signal: stop.signal,
          onConnection: (e) => void events.push(`iter:${e.state}`),
        })) {
          iterated.push(m.body);
        }
      })();
      try {
        await mover.started;
        await broker.write("in", "m1");
        await broker.write("feed", "f1");
        await waitFor(() => moved.length === 1 && iterated.length === 1, 10_000, "first");
        await outage();
        await broker.write("in", "m2");
        await broker.write("feed", "f2");
        await waitFor(() => moved.length === 2 && iterated.length === 2, 10_000, "after the restart");
        expect(moved).toEqual(["m1", "m2"]);
        expect(iterated).toEqual(["f1", "f2"]);
        expect((await broker.peek("out", { limit: 10 })).map((m) => m.body)).toEqual(["m1", "m2"]);
        expect(events.filter((e) => e.startsWith("move:"))).toEqual(["move:lost", "move:restored"]);
        expect(events.filter((e) => e.startsWith("iter:"))).toEqual(["iter:lost", "iter:restored"]);
      } finally {
        stop.abort();
        await iterating;
        await mover.stop();
        await broker.close();
      }
    }, 60_000);
  });
}
