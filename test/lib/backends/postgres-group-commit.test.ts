// Group commit on PostgreSQL (lib/backends/postgres/group-write.ts) against the live server
// (BROKER_TEST_POSTGRES_URL): concurrent writes of one process share transactions, every
// message lands, ids increase in call order within a process and in FIFO order across processes.
import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { openBroker } from "../../../lib/queue/open.ts";
import { TimestampError } from "../../../lib/core/errors.ts";
import { childEnv, uniqueName } from "../../helpers.ts";
import { postgresUrl } from "../../services.ts";

const PG = await postgresUrl();
const admin = new SQL(PG, { max: 1, bigint: true });
const schemas: string[] = [];

function schema(): string {
  const s = uniqueName("sbgc");
  schemas.push(s);
  return s;
}

afterAll(async () => {
  for (const s of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.close();
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

function increasing(ids: bigint[]): boolean {
  return ids.every((id, i) => i === 0 || ids[i - 1]! < id);
}

describe("postgres group commit", () => {
  test("300 concurrent writes of one process all land, ids strictly increasing in call order, fewer transactions than writes", async () => {
    const s = schema();
    await using broker = await openBroker(PG, { schema: s });
    await broker.write("warm", "up"); // the schema exists before the burst
    const calls = Array.from({ length: 300 }, (_, i) => broker.write(`q${i % 3}`, i % 10 === 0 ? [`m${i}a`, `m${i}b`] : `m${i}`));
    const ids = (await Promise.all(calls)).flat();
    expect(ids).toHaveLength(330);
    expect(increasing(ids)).toBe(true);
    for (let q = 0; q < 3; q++) {
      const read = await broker.peek(`q${q}`, { limit: 1000 });
      const expected = Array.from({ length: 300 }, (_, i) => i)
        .filter((i) => i % 3 === q)
        .flatMap((i) => (i % 10 === 0 ? [`m${i}a`, `m${i}b`] : [`m${i}`]));
      expect(read.map((m) => m.body)).toEqual(expected);
      expect(increasing(read.map((m) => m.ts))).toBe(true);
    }
    // Rows committed by one transaction share its xmin: the burst took far fewer transactions than calls.
    const [row] = await admin.unsafe(`SELECT count(DISTINCT xmin::text) AS n FROM "${s}".messages WHERE queue <> 'warm'`);
    expect(Number(row.n)).toBeLessThan(100);
    expect((await broker.status()).lastTimestamp).toBe(ids.at(-1)!);
  });

  test("several processes writing at once: every message lands, FIFO order is id order, ids unique", async () => {
    const s = schema();
    await using broker = await openBroker(PG, { schema: s });
    await broker.write("warm", "up");
    const script = `
      import { openBroker } from ${JSON.stringify(`${import.meta.dir}/../../../lib/queue/open.ts`)};
      const b = await openBroker(process.env.URL, { schema: process.env.SCHEMA });
      await b.write("warm", "up");
      await Bun.sleep(Number(process.env.START) - Date.now());
      const ids = (await Promise.all(Array.from({ length: 100 }, (_, i) => b.write("shared", process.env.TAG + ":" + i)))).flat();
      await b.close();
      if (!ids.every((id, i) => i === 0 || ids[i - 1] < id)) { console.error("not increasing"); process.exit(3); }
    `;
    // Everyone starts the burst at the same moment, once the children are up.
    const start = Date.now() + 1500;
    const children = ["a", "b", "c"].map((tag) =>
      Bun.spawn([process.execPath, "-e", script], {
        env: childEnv({ URL: PG, SCHEMA: s, TAG: tag, START: String(start) }),
        stdout: "ignore",
        stderr: "pipe",
      }),
    );
    await Bun.sleep(start - Date.now());
    const mine = (await Promise.all(Array.from({ length: 100 }, (_, i) => broker.write("shared", `p:${i}`)))).flat();
    expect(increasing(mine)).toBe(true);
    for (const child of children) {
      expect({ code: await child.exited, stderr: await new Response(child.stderr).text() }).toEqual({ code: 0, stderr: "" });
    }
    const all = await broker.peek("shared", { limit: 10_000 });
    expect(all).toHaveLength(400);
    expect(increasing(all.map((m) => m.ts))).toBe(true); // FIFO (order_id) order is id order
    for (const tag of ["a", "b", "c", "p"]) {
      const own = all.filter((m) => m.body.startsWith(`${tag}:`)).map((m) => m.body);
      expect(own).toEqual(Array.from({ length: 100 }, (_, i) => `${tag}:${i}`));
    }
  });

  test("bodies with NUL and empty bodies round-trip through a shared batch", async () => {
    const s = schema();
    await using broker = await openBroker(PG, { schema: s });
    const bodies = ["", "a\0b", "\uFDD0x", "plain", "line\nbreak"];
    const ids = (await Promise.all(bodies.map((b) => broker.write("q", b)))).flat();
    expect(increasing(ids)).toBe(true);
    expect((await broker.read("q", { limit: 10 })).map((m) => m.body)).toEqual(bodies);
  });

  test("ids that would pass 2^63 - 1: TimestampError, nothing written", async () => {
    const s = schema();
    await using broker = await openBroker(PG, { schema: s });
    await broker.write("q", "first");
    await admin.unsafe(`UPDATE "${s}".meta SET last_ts = 9223372036854775806 WHERE singleton`);
    const results = await Promise.allSettled([broker.write("q", "x"), broker.write("q", "y")]);
    for (const r of results) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(TimestampError);
    }
    expect((await broker.peek("q", { limit: 10 })).map((m) => m.body)).toEqual(["first"]);
  });
});
