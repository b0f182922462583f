/**
 * After an outage (docs/outages.md#what-happens-during-an-outage): the Redis
 * command connection goes back to riding out a brief blip once the server
 * answers again, and several library watchers without handlers in one
 * process print one lost/reconnected pair per outage between them. Private
 * servers only (test/_private-servers.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { isConnectionLoss } from "../../lib/backends/connection-loss.ts";
import { openBroker } from "../../lib/queue/open.ts";
import { OutageGuard } from "../../lib/watch/reconnect.ts";
import { type PrivateServer, privateRedis } from "../_private-servers.ts";
import { privateServerHooks } from "../_private-server-hooks.ts";
import { uniqueName } from "../helpers.ts";
import { spawnBun, waitFor } from "./_watch-outage-helpers.ts";
import { storeTarget } from "../services.ts";

const LOST = "warning: lost connection to";
const BACK = "reconnected to";
const WATCHERS = resolve(import.meta.dir, "_outage-watchers.ts");

describe("the default stderr report", () => {
  const refused = () => Object.assign(new Error("refused"), { code: "ECONNREFUSED" });

  test("one pair per outage of a target; a guard that stops while down leaves without a line", async () => {
    const lines: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void lines.push(args.join(" "));
    try {
      const target = uniqueName("lines");
      let up = false;
      const op = async () => {
        if (!up) throw refused();
        return 1;
      };
      const quitting = new AbortController();
      const runs = [
        new OutageGuard(target, new AbortController().signal, undefined, undefined).run(op),
        new OutageGuard(target, new AbortController().signal, undefined, undefined).run(op),
        new OutageGuard(target, quitting.signal, undefined, undefined).run(op),
      ];
      await Bun.sleep(150);
      quitting.abort();
      await Bun.sleep(100);
      up = true;
      expect(await Promise.all(runs)).toEqual([1, 1, undefined]);
      expect(lines.filter((l) => l.includes(target))).toHaveLength(2);
      expect(lines[0]).toContain(`${LOST} ${target}`);
      expect(lines[1]).toContain(`${BACK} ${target}`);

      // The next outage is reported again, also after one that ended with nobody left waiting.
      up = false;
      const lone = new AbortController();
      const gone = new OutageGuard(target, lone.signal, undefined, undefined).run(op);
      await Bun.sleep(50);
      lone.abort();
      expect(await gone).toBeUndefined();
      const again = new OutageGuard(target, new AbortController().signal, undefined, undefined).run(op);
      await Bun.sleep(50);
      up = true;
      expect(await again).toBe(1);
      expect(lines.filter((l) => l.includes(LOST))).toHaveLength(3);
      expect(lines.filter((l) => l.includes(BACK))).toHaveLength(2);
    } finally {
      console.error = original;
    }
  });
});

describe("redis: the command connection after an outage", () => {
  let server: PrivateServer | undefined;
  beforeAll(async () => {
    server = await privateRedis();
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  }, 60_000);

  test("fails fast during the outage, then a one-shot write rides out a short blip again", async () => {
    if (!server) return console.warn("skipped: no redis-server binary");
    const broker = await openBroker(storeTarget("redis", server.url, uniqueName("bl")));
    try {
      await broker.write("q", "one");
      await server.stop();
      // The first write gives up after the client's own retries; the next client fails at once.
      expect(isConnectionLoss(await broker.write("q", "lost").catch((e: unknown) => e))).toBe(true);
      let t0 = performance.now();
      expect(isConnectionLoss(await broker.write("q", "lost").catch((e: unknown) => e))).toBe(true);
      expect(performance.now() - t0).toBeLessThan(500);
      await server.start();
      await broker.write("q", "two");
      await broker.write("q", "three");

      // A blip: the server goes away and is back within the client's retries; the write waits for it.
      await server.stop();
      t0 = performance.now();
      const writing = broker.write("q", "four");
      writing.catch(() => {});
      await Bun.sleep(250);
      await server.start();
      const back = performance.now() - t0;
      await writing;
      const waited = performance.now() - t0;
      console.log(`blip: server back after ${back.toFixed(0)} ms, write done after ${waited.toFixed(0)} ms`);
      expect(waited).toBeGreaterThan(200);
      expect((await broker.peek("q", { limit: 10 })).map((m) => m.body)).toEqual(["one", "two", "three", "four"]);
    } finally {
      await broker.close();
    }
  }, 60_000);
});

for (const kind of ["postgres", "redis"] as const) {
  describe(`${kind}: library watchers of one process through an outage`, () => {
    let server: PrivateServer | undefined;
    privateServerHooks(kind, (s) => (server = s));

    test("three watchers without handlers print one lost line and one reconnected line between them", async () => {
      if (!server) return console.warn(`skipped: no ${kind} server binaries`);
      const name = uniqueName("ln");
      const broker = await openBroker(storeTarget(kind, server.url, name));
      await broker.backend.init();
      const p = spawnBun([WATCHERS, kind, server.url, name, "a", "b", "iter:c"], {});
      try {
        for (const q of ["a", "b", "c"]) await broker.write(q, `${q}-1`);
        await waitFor(() => p.out.length === 3, 15_000, "first deliveries");
        await server.stop();
        // Redis: longer than its client's own retries (1.55 s), so the outage is seen and reported.
        await Bun.sleep(kind === "redis" ? 4500 : 1500);
        await server.start();
        for (const q of ["a", "b", "c"]) await broker.write(q, `${q}-2`);
        await waitFor(() => p.out.length === 6, 15_000, "deliveries after the outage").catch((e) => {
          throw new Error(`${e.message}: ${JSON.stringify([p.out, p.err, p.proc.exitCode])}`);
        });
        await Bun.sleep(300);
        expect(p.out.sort()).toEqual(["a a-1", "a a-2", "b b-1", "b b-2", "c c-1", "c c-2"]);
        expect(p.proc.exitCode).toBeNull();
        expect(p.err.filter((l) => l.includes(LOST))).toHaveLength(1);
        expect(p.err.filter((l) => l.includes(BACK))).toHaveLength(1);
      } finally {
        await p.stop();
        await broker.close();
      }
    }, 60_000);
  });
}
