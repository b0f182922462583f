/**
 * Leases, delayed writes and workers through the library (docs/leases.md#library-and-cli):
 * AsyncQueue on every backend whose lease capabilities exist (SQLite, PostgreSQL, Redis;
 * a backend without them is skipped here and refused with a BackendError), and the
 * synchronous Queue on SQLite.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BackendError, Broker, openBroker, Queue, QueueNameError } from "../../index.ts";
import { runWorker } from "../../lib/queue/_worker.ts";
import { tempDir, uniqueName } from "../helpers.ts";
import { postgresUrl, redisUrl, storeTarget } from "../services.ts";

const dir = tempDir("sb-leases-");
const PG = await postgresUrl();
const REDIS = await redisUrl();

const opened: Broker[] = [];
async function open(kind: string): Promise<Broker> {
  const b =
    kind === "sqlite"
      ? await openBroker(join(dir.path, `${uniqueName("l")}.db`))
      : kind === "postgres"
        ? await openBroker(storeTarget("postgres", PG, uniqueName("sb_lease")))
        : await openBroker(storeTarget("redis", REDIS, uniqueName("sb_lease")));
  opened.push(b);
  return b;
}
// Every store this file opened goes (a schema drop each on PostgreSQL): together, and with time to spare on a busy machine.
afterAll(async () => {
  await Promise.all(
    opened.map(async (b) => {
      await b.backend.cleanup?.().catch(() => {});
      await b.close().catch(() => {});
    }),
  );
  dir[Symbol.dispose]();
}, 60_000);

/** Which backends have the lease capabilities now (a backend without them is skipped, not failed). */
const capable = new Map<string, boolean>();
for (const kind of ["sqlite", "postgres", "redis"]) capable.set(kind, (await open(kind)).backend.lease !== undefined);

const bodies = (ms: Array<{ body: string }>) => ms.map((m) => m.body);

for (const kind of ["sqlite", "postgres", "redis"]) {
  describe.skipIf(!capable.get(kind))(`AsyncQueue leases on ${kind}`, () => {
    test("lease, ack: the message is out of the queue while leased and gone after the ack", async () => {
      const q = (await open(kind)).queue("jobs");
      await q.writeMany(["a", "b"]);
      const job = (await q.lease({ ms: 10_000 }))!;
      expect([job.body, job.attempt, job.queue]).toEqual(["a", 1, "jobs"]);
      expect(job.deadlineMs).toBeGreaterThan(Date.now() + 5000);
      expect(bodies(await q.peekMany(10))).toEqual(["b"]);
      expect((await q.broker.leases.heldStats("jobs"))[0]).toMatchObject({ queue: "jobs", leased: 1, scheduled: 0 });
      expect(await job.ack()).toBe(true);
      expect(job.status).toBe("acked");
      expect(await job.ack()).toBe(false);
      expect(bodies(await q.peekMany(10))).toEqual(["b"]);
      expect(await q.broker.leases.heldStats("jobs")).toEqual([]);
    });

    test("await using releases an unsettled job at once; the next lease has attempt 2 and the same id", async () => {
      const q = (await open(kind)).queue("jobs");
      await q.writeMany(["a", "b"]);
      let id = 0n;
      {
        await using job = (await q.lease({ ms: 10_000 }))!;
        id = job.ts;
        expect(bodies(await q.peekMany(10))).toEqual(["b"]);
      }
      expect(bodies(await q.peekMany(10))).toEqual(["a", "b"]);
      const again = (await q.lease({ ms: 10_000 }))!;
      expect([again.ts, again.attempt]).toEqual([id, 2]);
      {
        await using settled = again;
        await settled.ack();
      }
      expect(bodies(await q.peekMany(10))).toEqual(["b"]);
    });

    test("a lease past its deadline comes back in its original place with attempt + 1; the stale handle can no longer ack", async () => {
      const q = (await open(kind)).queue("jobs");
      await q.writeMany(["a", "b"]);
      const first = (await q.lease({ ms: 200 }))!;
      await Bun.sleep(450);
      expect(bodies(await q.peekMany(10))).toEqual(["a", "b"]);
      const second = (await q.lease({ ms: 10_000 }))!;
      expect([second.body, second.ts, second.attempt]).toEqual(["a", first.ts, 2]);
      expect(await first.ack()).toBe(false);
      expect(await second.ack()).toBe(true);
    });

    test("release with a delay keeps the message scheduled, then it is pending again under its id", async () => {
      const q = (await open(kind)).queue("jobs");
      await q.writeMany(["a", "b"]);
      const job = (await q.lease({ ms: 10_000 }))!;
      expect(await job.release({ delayMs: 300 })).toBe(true);
      expect(bodies(await q.peekMany(10))).toEqual(["b"]);
      expect((await q.broker.leases.heldStats("jobs"))[0]).toMatchObject({ leased: 0, scheduled: 1 });
      await Bun.sleep(550);
      expect((await q.peekMany(10)).map((m) => [m.body, m.ts])).toEqual([
        ["a", job.ts],
        ["b", expect.any(BigInt)],
      ]);
    });

    test("extend keeps the lease past its first deadline", async () => {
      const q = (await open(kind)).queue("jobs");
      await q.write("a");
      const job = (await q.lease({ ms: 250 }))!;
      expect(await job.extend(5000)).toBe(true);
      await Bun.sleep(450);
      expect(await q.peekMany(10)).toEqual([]);
      expect(await job.ack()).toBe(true);
    });

    test("delayed writes: invisible until due, then in id order; a time already past writes at once", async () => {
      const q = (await open(kind)).queue("jobs");
      const held = (await open(kind)).queue("only-held");
      await held.write("x", { delayMs: 5000 });
      expect([await held.exists(), (await held.stats()).total]).toEqual([true, 0]);
      const early = await q.write("later", { delayMs: 300 });
      await q.write("at", { at: new Date(Date.now() + 300) });
      await q.write("now");
      await q.write("past", { at: Date.now() - 1000 });
      expect(bodies(await q.peekMany(10))).toEqual(["now", "past"]);
      expect((await q.broker.leases.heldStats("jobs"))[0]).toMatchObject({ scheduled: 2 });
      await Bun.sleep(550);
      const all = await q.peekMany(10);
      expect(bodies(all)).toEqual(["later", "at", "now", "past"]);
      expect(all[0]!.ts).toBe(early);
    });

    test("dead-lettering a job moves it, same id", async () => {
      const b = await open(kind);
      const q = b.queue("jobs");
      const id = await q.write("poison");
      const job = (await q.lease({ ms: 10_000 }))!;
      expect(await job.deadLetter("jobs.dead")).toBe(true);
      expect((await b.queue("jobs.dead").peekMany(10)).map((m) => m.ts)).toEqual([id]);
      expect(await q.peekMany(10)).toEqual([]);
    });

    test("process: acks on success, retries a throw with backoff, dead-letters after maxAttempts", async () => {
      const b = await open(kind);
      const q = b.queue("work");
      await q.writeMany(["ok-1", "bad", "ok-2"]);
      const seen: string[] = [];
      const stop = new AbortController();
      const errors: string[] = [];
      const run = q.process(
        async (job) => {
          seen.push(`${job.body}#${job.attempt}`);
          if (job.body === "bad") throw new Error("boom");
        },
        {
          signal: stop.signal,
          maxAttempts: 3,
          backoff: { baseMs: 40, maxMs: 100 },
          onError: (e, job) => errors.push(`${job.attempt}:${(e as Error).message}`),
        },
      );
      const deadline = Date.now() + 10_000;
      while ((await b.queue("work.dead").peekMany(10)).length === 0 && Date.now() < deadline) await Bun.sleep(50);
      stop.abort();
      const result = await run;
      expect(result).toEqual({ acked: 2, failed: 3, deadLettered: 1 });
      expect(seen.filter((s) => s.startsWith("bad"))).toEqual(["bad#1", "bad#2", "bad#3"]);
      expect(seen).toContain("ok-1#1");
      expect(errors).toEqual(["1:boom", "2:boom", "3:boom"]);
      expect(bodies(await b.queue("work.dead").peekMany(10))).toEqual(["bad"]);
      expect(await q.peekMany(10)).toEqual([]);
      expect(await b.leases.heldStats()).toEqual([]);
    });

    test("process: runs up to `concurrency` handlers at once, wakes for a new write, and abort waits for the running ones", async () => {
      const b = await open(kind);
      const q = b.queue("conc");
      let running = 0;
      let most = 0;
      let finished = 0;
      const stop = new AbortController();
      const run = q.process(
        async () => {
          most = Math.max(most, ++running);
          await Bun.sleep(150);
          running--;
          finished++;
        },
        { signal: stop.signal, concurrency: 3 },
      );
      await Bun.sleep(100); // the worker is idle now
      const t0 = Date.now();
      await q.writeMany(["1", "2", "3", "4", "5"]);
      while (running === 0 && Date.now() - t0 < 5000) await Bun.sleep(5);
      expect(Date.now() - t0).toBeLessThan(3000);
      while (finished < 5 && Date.now() - t0 < 10_000) await Bun.sleep(20);
      await q.write("last");
      while (running === 0 && Date.now() - t0 < 10_000) await Bun.sleep(5);
      stop.abort();
      const result = await run;
      expect(running).toBe(0);
      expect(result.acked).toBe(6);
      expect(most).toBe(3);
      expect(await q.peekMany(10)).toEqual([]);
    });

    test("process: the lease is extended while a slow handler runs, and a delayed message wakes the idle worker when due", async () => {
      const b = await open(kind);
      const q = b.queue("slow");
      await q.write("slow");
      const attempts: number[] = [];
      const stop = new AbortController();
      const run = q.process(
        async (job) => {
          attempts.push(job.attempt);
          if (job.body === "slow") await Bun.sleep(700);
        },
        { signal: stop.signal, leaseMs: 200 },
      );
      await Bun.sleep(900);
      expect(attempts).toEqual([1]);
      await q.write("delayed", { delayMs: 300 });
      const t0 = Date.now();
      while (attempts.length < 2 && Date.now() - t0 < 5000) await Bun.sleep(10);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect(Date.now() - t0).toBeLessThan(1500);
      stop.abort();
      expect((await run).acked).toBe(2);
    });

    test("bad options are refused before any work", async () => {
      const q = (await open(kind)).queue("jobs");
      await expect(q.lease({ ms: 0 })).rejects.toThrow("leaseMs must be a positive number");
      await expect(q.write("x", { delayMs: -1 })).rejects.toThrow("delayMs must be a non-negative");
      await expect(q.process(() => {}, { deadLetter: "-bad" })).rejects.toBeInstanceOf(QueueNameError);
      await expect(q.process(() => {}, { deadLetter: "jobs" })).rejects.toThrow("cannot be the queue itself");
      await expect(q.process(() => {}, { concurrency: 0 })).rejects.toThrow("concurrency must be at least 1");
    });
  });
}

describe("worker outages", () => {
  test("a lost connection while leasing is waited out and reported once lost, once restored", async () => {
    const b = await open("sqlite");
    await b.queue("q").write("job");
    let failures = 3;
    const flaky = new Proxy(b.leases, {
      get(t, key) {
        if (key === "lease") {
          return async (...args: Parameters<typeof t.lease>) => {
            if (failures-- > 0) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
            return t.lease(...args);
          };
        }
        const v = Reflect.get(t, key, t);
        return typeof v === "function" ? v.bind(t) : v;
      },
    });
    const events: string[] = [];
    const done: string[] = [];
    const stop = new AbortController();
    const run = runWorker(flaky, "q", (job) => void done.push(job.body), {
      signal: stop.signal,
      onConnection: (e) => void events.push(e.state),
    });
    const t0 = Date.now();
    while (done.length === 0 && Date.now() - t0 < 5000) await Bun.sleep(10);
    stop.abort();
    expect(await run).toEqual({ acked: 1, failed: 0, deadLettered: 0 });
    expect(events).toEqual(["lost", "restored"]);
    expect(done).toEqual(["job"]);
  });

  test("any other store error ends process() with that error, after the running handlers", async () => {
    const b = await open("sqlite");
    const broken = new Proxy(b.leases, {
      get(t, key) {
        if (key === "lease") return async () => Promise.reject(new BackendError("disk on fire"));
        const v = Reflect.get(t, key, t);
        return typeof v === "function" ? v.bind(t) : v;
      },
    });
    await expect(runWorker(broken, "q", () => {})).rejects.toThrow("disk on fire");
  });
});

describe("a backend without the lease capabilities", () => {
  test("lease, delayed writes and workers are refused with a BackendError naming the backend; inspection is empty", async () => {
    const real = await open("sqlite");
    const plain = new Proxy(real.backend, {
      get: (t, key, receiver) =>
        ["lease", "heldStats", "peekHeld", "promoteDue"].includes(String(key)) ? undefined : Reflect.get(t, key, receiver),
    });
    const b = new Broker(plain, real.config);
    const q = b.queue("jobs");
    await expect(q.lease({ ms: 1000 })).rejects.toBeInstanceOf(BackendError);
    await expect(q.lease({ ms: 1000 })).rejects.toThrow(`The ${real.backend.name} backend has no leases`);
    await expect(q.write("x", { delayMs: 1000 })).rejects.toBeInstanceOf(BackendError);
    await expect(q.process(() => {})).rejects.toBeInstanceOf(BackendError);
    expect(await b.leases.heldStats()).toEqual([]);
    expect(await q.write("plain")).toBeGreaterThan(0n);
  });
});

describe("Queue (synchronous, SQLite) leases", () => {
  const path = () => join(dir.path, `${uniqueName("sync")}.db`);

  test("lease, ack, using-release, expiry with attempt + 1", async () => {
    using q = new Queue("jobs", { dbPath: path() });
    q.write("a");
    q.write("b");
    let id = 0n;
    {
      using job = q.lease({ ms: 10_000 })!;
      id = job.ts;
      expect([job.body, job.attempt]).toEqual(["a", 1]);
      expect(q.peekMany(10).map((m) => m.body)).toEqual(["b"]);
    }
    expect(q.peekMany(10).map((m) => m.body)).toEqual(["a", "b"]);
    const short = q.lease({ ms: 150 })!;
    expect([short.ts, short.attempt]).toEqual([id, 2]);
    await Bun.sleep(350);
    const again = q.lease({ ms: 10_000 })!;
    expect([again.ts, again.attempt]).toEqual([id, 3]);
    expect(short.ack()).toBe(false);
    expect(again.extend(20_000)).toBe(true);
    expect(again.ack()).toBe(true);
    const b = q.lease({ ms: 10_000 })!;
    expect(b.release({ delayMs: 200 })).toBe(true);
    expect(q.lease({ ms: 10_000 })).toBeNull();
    await Bun.sleep(350);
    expect(q.lease({ ms: 10_000 })?.body).toBe("b");
  });

  test("persistent handles lease too, and delayed writes stay invisible until due", async () => {
    using q = new Queue("jobs", { dbPath: path(), persistent: true });
    using held = new Queue("only-held", { dbPath: q.dbPath });
    held.write("x", { delayMs: 5000 });
    expect([held.exists(), held.stats().total]).toEqual([true, 0]);
    const id = q.write("later", { delayMs: 250 });
    q.write("now");
    expect(q.peekMany(10).map((m) => m.body)).toEqual(["now"]);
    await Bun.sleep(400);
    expect(q.peekMany(10).map((m) => [m.body, m.ts])).toEqual([
      ["later", id],
      ["now", expect.any(BigInt)],
    ]);
    using job = q.lease({ ms: 5000 })!;
    expect(job.body).toBe("later");
    job.deadLetter("jobs.failed");
    expect(new Queue("jobs.failed", { dbPath: q.dbPath }).peekMany(10).map((m) => m.ts)).toEqual([id]);
  });

  test("process on the synchronous Queue: ack, retry, dead letter", async () => {
    using q = new Queue("work", { dbPath: path() });
    q.write("ok");
    q.write("bad");
    const stop = new AbortController();
    const run = q.process(
      (job) => {
        if (job.body === "bad") throw new Error("no");
      },
      { signal: stop.signal, maxAttempts: 2, backoff: () => 20, deadLetter: "work.failed" },
    );
    using dead = new Queue("work.failed", { dbPath: q.dbPath });
    const t0 = Date.now();
    while (!dead.peek() && Date.now() - t0 < 10_000) await Bun.sleep(20);
    stop.abort();
    expect(await run).toEqual({ acked: 1, failed: 2, deadLettered: 1 });
    expect(dead.peekMany(10).map((m) => m.body)).toEqual(["bad"]);
    expect(q.peekMany(10)).toEqual([]);
  });
});
