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
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openBroker } from "../../lib/queue/open.ts";
import type { Broker } from "../../lib/queue/broker.ts";
import { watchQueue } from "../../lib/watch/watcher.ts";
import { tempDir, uniqueName } from "../helpers.ts";
import { postgresUrl, redisUrl } from "../services.ts";

/** How late a delivery may be here: far above a wake-up on a loaded machine, far below the safety poll. */
const LATE_MS = 300;

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
