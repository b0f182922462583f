/**
 * A watcher on a backend with native wake-ups (PostgreSQL LISTEN/NOTIFY,
 * Redis pub/sub) wakes and claims in one round trip (docs/outages.md#wake-ups-and-round-trips):
 * after a notification it claims at once instead of first asking whether
 * anything is pending. The watch runs (watchRun, as `broker watch` and
 * `QueueWatcher` do) on a Proxy of the Backend object that records every
 * method call; another broker writes one message, and the calls the watch
 * made between the write and the delivery must be exactly one `claim`.
 * Until it is idle again it makes one more (the walk looks for a next
 * message and finds none); nothing else.
 *
 * The native wait itself (`waitForActivity`, re-armed after each wake-up)
 * is left out of the count: it is the subscription, not a store call of the
 * delivery path.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import type { Backend, Message } from "../../lib/core/types.ts";
import { iterateAsync } from "../../lib/delivery/drive.ts";
import { openBroker } from "../../lib/queue/open.ts";
import type { Broker } from "../../lib/queue/broker.ts";
import { watchRun } from "../../lib/watch/watch-source.ts";
import { uniqueName } from "../helpers.ts";
import { postgresUrl, redisUrl, unlinkRedisKeys } from "../services.ts";

const schemas: string[] = [];
const namespaces: string[] = [];
afterAll(async () => {
  if (schemas.length) {
    const admin = new SQL(await postgresUrl(), { max: 1 });
    for (const s of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin.close();
  }
  for (const ns of namespaces) await unlinkRedisKeys(await redisUrl(), `simplebroker:${ns}:*`);
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

/** `backend`, with every method call's name appended to `calls` (the native wait left out). */
function counting(backend: Backend, calls: string[]): Backend {
  return new Proxy(backend, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop !== "waitForActivity") calls.push(String(prop));
        return value.apply(target, args);
      };
    },
  });
}

async function open(kind: "postgres" | "redis"): Promise<{ open: () => Promise<Broker> }> {
  const name = uniqueName(`sbrt${kind}`);
  if (kind === "postgres") {
    schemas.push(name);
    const url = await postgresUrl();
    return { open: () => openBroker(url, { schema: name }) };
  }
  namespaces.push(name);
  const url = await redisUrl();
  return { open: () => openBroker(url, { namespace: name }) };
}

async function until(ok: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms`);
    await Bun.sleep(2);
  }
}

for (const kind of ["postgres", "redis"] as const) {
  describe(`${kind}: a wake-up costs one round trip`, () => {
    test("a notified watcher claims at once: one store call from the write to the delivery", async () => {
      const store = await open(kind);
      const watching = await store.open();
      const writer = await store.open();
      await watching.init();
      await writer.init();
      const calls: string[] = [];
      const stop = new AbortController();
      // A long poll interval: the slow safety poll (seconds) stays out of the measured window.
      const config = { ...watching.config, maxInterval: 10 };
      const run = watchRun(counting(watching.backend, calls), config, "jobs", { kind: "consume" }, stop.signal);
      const got: Array<{ message: Message; calls: string[] }> = [];
      const consumer = (async () => {
        for await (const message of iterateAsync(run.loop, run.source)) got.push({ message, calls: calls.splice(0) });
      })();
      try {
        // Idle: the first look found nothing and the watch waits for a notification.
        await until(() => calls.length > 0, 5000);
        await Bun.sleep(300);
        const startup = calls.splice(0);
        for (let round = 0; round < 3; round++) {
          const [id] = await writer.write("jobs", `m${round}`);
          await until(() => got.length > round, 5000);
          await Bun.sleep(200);
          const { message, calls: toDelivery } = got[round]!;
          const afterDelivery = calls.splice(0);
          console.log(
            `${kind} round ${round}: startup ${startup.join(",")}; write→delivery ${toDelivery.join(",")}; until idle ${afterDelivery.join(",")}`,
          );
          expect(message.ts).toBe(id!);
          expect(toDelivery).toEqual(["claim"]);
          expect(afterDelivery).toEqual(["claim"]);
        }
      } finally {
        stop.abort();
        await consumer;
        await run.source.close();
        await watching.close();
        await writer.close();
      }
    }, 20_000);
  });
}
