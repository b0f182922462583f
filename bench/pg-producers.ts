/**
 * Concurrent producers on PostgreSQL: 32 producers in one process, each
 * awaiting 100 single-message writes one after another — through
 * `Broker.write` (our group commit, lib/backends/postgres/group-write.ts)
 * and through pg-boss's `send` — on the same server in one run. Prints
 * msgs/s of each and the ratio, as `key: value` lines.
 *
 *     bun bench/pg-producers.ts    # BROKER_TEST_POSTGRES_URL overrides the server
 *     PRODUCERS=64 WRITES=50 ROUNDS=5 bun bench/pg-producers.ts
 */
import { SQL } from "bun";
import PgBoss from "pg-boss";
import { openBroker } from "../lib/queue/open.ts";

const URL = process.env.BROKER_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const PRODUCERS = Number(process.env.PRODUCERS ?? 32);
const WRITES = Number(process.env.WRITES ?? 100);
/** Runs of each side, alternating; the best run of each is reported (other people share the machine). */
const ROUNDS = Number(process.env.ROUNDS ?? 3);

const tag = `${process.pid}_${Date.now().toString(36)}`;
const ourSchema = `bench_producers_${tag}`;
const bossSchema = `bench_pgboss_${tag}`;

/** msgs/s of PRODUCERS concurrent loops, each awaiting WRITES calls of `send` one after another. */
async function measure(send: (producer: number, i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: PRODUCERS }, async (_, p) => {
      for (let i = 0; i < WRITES; i++) await send(p, i);
    }),
  );
  return (PRODUCERS * WRITES) / ((performance.now() - started) / 1000);
}

const broker = await openBroker(URL, { schema: ourSchema });
const boss = new PgBoss({ connectionString: URL, schema: bossSchema, supervise: false, schedule: false });
boss.on("error", (error) => console.error(`pg-boss: ${error}`));
try {
  await broker.write("warm", "up");
  await boss.start();
  await boss.createQueue("jobs");
  await boss.send("jobs", { warm: true });

  let ours = 0;
  let theirs = 0;
  for (let round = 0; round < ROUNDS; round++) {
    ours = Math.max(ours, await measure((p, i) => broker.write("jobs", `producer ${p} message ${i}`)));
    theirs = Math.max(theirs, await measure((p, i) => boss.send("jobs", { body: `producer ${p} message ${i}` })));
  }
  console.log(`producers: ${PRODUCERS}`);
  console.log(`writes_per_producer: ${WRITES}`);
  console.log(`rounds: ${ROUNDS}`);
  console.log(`simplebroker_msgs_per_s: ${Math.round(ours)}`);
  console.log(`pgboss_msgs_per_s: ${Math.round(theirs)}`);
  console.log(`ratio: ${(ours / theirs).toFixed(2)}`);
} finally {
  await broker.close();
  await boss.stop({ graceful: false, wait: true }).catch(() => {});
  const admin = new SQL(URL, { max: 1 });
  await admin.unsafe(`DROP SCHEMA IF EXISTS "${ourSchema}" CASCADE; DROP SCHEMA IF EXISTS "${bossSchema}" CASCADE`);
  await admin.close();
}
