/**
 * Reproductions of lease and delay problems found by stress/leases.test.ts
 * and bench/lateness.ts (docs/leases.md).
 *
 * SQLite: a consuming watcher (`watchQueue`, what `broker watch Q` runs) that
 * is idle does not wake when a held message of its queue falls due — a
 * delayed message becoming due, or a lease running out — even when that
 * message was held before the watcher started. Nothing is written when that
 * happens, so on SQLite only the watcher's safety poll (2.5-7.5 s) finds the
 * message; PostgreSQL and Redis watchers end their native wait at the due
 * time of the held messages they know of (lib/backends/due-wait.ts), so
 * bench/lateness.ts measures a few ms there and seconds on SQLite. `process()` workers set a timer for the earliest due held
 * message (lib/queue/_lease-wait.ts); the plain watcher's wait
 * (lib/watch/activity.ts, ActivityMonitor.wait, the wake-hub branch) has no
 * such timer. The same two cases run on PostgreSQL and Redis, where they
 * pass, as the control; on SQLite they fail (nothing by the deadline).
 *
 * PostgreSQL and Redis: `write(body, { delayMs })` turns the delay into a
 * due time on the client's clock (lib/queue/_broker-leases.ts, dueTime:
 * `Date.now() + delayMs`) and the server compares that with its own clock
 * (lib/core/leases.ts, writeDelayed takes an absolute dueMs), while every
 * other time of these backends is the server's (docs/leases.md#the-model).
 * A client whose clock is behind the server's by more than the delay gets
 * the message delivered at once: early. `release({ delayMs })` hands the
 * delay itself to the server and is not affected (the control). The
 * client's clock is set back here by replacing `Date.now` for the write.
 *
 * PostgreSQL: two transactions returning due held messages at once (the
 * promotion every reader runs first: lib/backends/postgres/lease-sql.ts,
 * promoteSql, `DELETE FROM held WHERE … due <= now`) lock the same rows in
 * different orders when their plans differ — `queue = $1` walks
 * (queue, due), all queues or `queue = ANY(…)` walks the table — and
 * deadlock. The server breaks it after deadlock_timeout (1 s) and the loser
 * is retried: nothing is lost, but the caller waits a second or more. A
 * `process()` worker hits it between its lease (queue = $1) and its native
 * wait's due check (queue = ANY); bench/lateness.ts shows it as a p99 of
 * about 1 s on PostgreSQL in some runs.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openBroker } from "../../lib/queue/open.ts";
import type { Broker } from "../../lib/queue/broker.ts";
import { watchQueue } from "../../lib/watch/watcher.ts";
import { tempDir, uniqueName } from "../helpers.ts";
import { postgresUrl, redisUrl } from "../services.ts";

/** How late a delivery may be here: far above a wake-up on a loaded machine, far below the safety poll. */
const LATE_MS = 500;

/** The first message a consuming watcher delivers, and when; undefined when none came by `deadline`. */
async function firstDelivery(broker: Broker, queue: string, deadline: number) {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), deadline - Date.now());
  try {
    for await (const m of watchQueue(queue, { target: broker, signal: stop.signal })) return { body: m.body, at: Date.now() };
    return undefined;
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}

const pgUrl = await postgresUrl();
const redis = await redisUrl();

/** A fresh store of `kind`; PostgreSQL and Redis, where this works, are the control. */
async function fresh(kind: "sqlite" | "postgres" | "redis", dir: string): Promise<Broker> {
  const name = uniqueName("sbleaserepro");
  const broker =
    kind === "sqlite"
      ? await openBroker(join(dir, "q.db"))
      : kind === "postgres"
        ? await openBroker(pgUrl, { schema: name })
        : await openBroker(redis, { namespace: name });
  await broker.init();
  return broker;
}

async function dispose(kind: "sqlite" | "postgres" | "redis", broker: Broker): Promise<void> {
  if (kind !== "sqlite") await broker.cleanup();
  await broker.close();
}

for (const kind of ["sqlite", "postgres", "redis"] as const) {
  describe(`${kind}: an idle consuming watcher and held messages falling due`, () => {
    test("a delayed message is delivered when it falls due", async () => {
      using dir = tempDir("sb-lease-repro-");
      const broker = await fresh(kind, dir.path);
      try {
        const due = Date.now() + 600;
        await broker.queue("q").write("later", { at: due });
        const got = await firstDelivery(broker, "q", due + LATE_MS);
        expect(got?.body).toBe("later");
        expect(got!.at - due).toBeLessThan(LATE_MS);
      } finally {
        await dispose(kind, broker);
      }
    }, 10_000);

    test("a message whose lease ran out is delivered at the deadline", async () => {
      using dir = tempDir("sb-lease-repro-");
      const broker = await fresh(kind, dir.path);
      try {
        await broker.write("q", "abandoned");
        const job = await broker.queue("q").lease({ ms: 600 });
        expect(job?.body).toBe("abandoned");
        const got = await firstDelivery(broker, "q", job!.deadlineMs + LATE_MS);
        expect(got?.body).toBe("abandoned");
        expect(got!.at - job!.deadlineMs).toBeLessThan(LATE_MS);
      } finally {
        await dispose(kind, broker);
      }
    }, 10_000);
  });
}

/** Run `fn` with this process's `Date.now` `ms` behind the real clock (a client clock behind the server's). */
async function withClockBehind<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const real = Date.now;
  Date.now = () => real() - ms;
  try {
    return await fn();
  } finally {
    Date.now = real;
  }
}

for (const kind of ["postgres", "redis"] as const) {
  describe(`${kind}: a delay with the client's clock 3 s behind the server's`, () => {
    test("write(body, { delayMs: 2000 }) stays invisible for the delay", async () => {
      const broker = await fresh(kind, "");
      try {
        await withClockBehind(3000, () => broker.queue("q").write("later", { delayMs: 2000 }));
        expect((await broker.peek("q")).map((m) => m.body)).toEqual([]);
      } finally {
        await dispose(kind, broker);
      }
    });

    test("release({ delayMs: 2000 }) stays invisible for the delay (control)", async () => {
      const broker = await fresh(kind, "");
      try {
        await broker.write("q", "again");
        const job = await broker.queue("q").lease({ ms: 30_000 });
        await withClockBehind(3000, () => job!.release({ delayMs: 2000 }));
        expect((await broker.peek("q")).map((m) => m.body)).toEqual([]);
      } finally {
        await dispose(kind, broker);
      }
    });
  });
}

describe("postgres: due held messages returned by two connections at once", () => {
  test("promoteDue(queue) and promoteDue() together never wait out a deadlock", async () => {
    const schema = uniqueName("sbleaserepro");
    const a = await openBroker(pgUrl, { schema });
    await a.init();
    const b = await openBroker(pgUrl, { schema });
    try {
      const slow: number[] = [];
      for (let round = 0; round < 8 && slow.length === 0; round++) {
        // Due times falling as ids rise: the table's order and the due order differ.
        const due = Date.now() + 400;
        for (let i = 0; i < 50; i++) await a.queue("q").write(`r${round} m${i}`, { at: due + 49 - i });
        await Bun.sleep(Math.max(0, due + 60 - Date.now()));
        const started = performance.now();
        await Promise.all([a.leases.promoteDue("q"), b.leases.promoteDue()]);
        const ms = performance.now() - started;
        if (ms > 800) slow.push(Math.round(ms));
        expect((await a.queueStats("q")).pending).toBe(50);
        await a.delete("q");
      }
      // A deadlock is broken by the server after deadlock_timeout (1 s by default) and the loser retried.
      expect(slow).toEqual([]);
    } finally {
      await b.close();
      await dispose("postgres", a);
    }
  }, 60_000);
});
