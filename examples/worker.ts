/**
 * A worker: take jobs from the "jobs" queue, one at a time, as they arrive.
 *
 *     bun examples/worker.ts                      # terminal 1: waits for work
 *     bun cli/index.ts write jobs "resize a.png"  # terminal 2: hand it some
 *
 * The database is ./.broker.db (or what ./.broker.toml names), the same one
 * the `broker` CLI uses in this directory. Ctrl-C stops the worker cleanly.
 * EXAMPLE_LIMIT=N makes it stop after N jobs (the tests use that).
 */
import { Queue } from "../index.ts"; // in your project: from "simplebroker"

const limit = Number(process.env.EXAMPLE_LIMIT ?? Infinity);

// Stop on Ctrl-C / SIGTERM: aborting the signal ends the `for await` loop.
const stop = new AbortController();
process.once("SIGINT", () => stop.abort());
process.once("SIGTERM", () => stop.abort());

using jobs = new Queue("jobs");

let done = 0;
// watch() claims each message (exactly-once) just before yielding it, then
// sleeps until the next one is written, by this process or any other.
for await (const msg of jobs.watch({ signal: stop.signal })) {
  console.log(`job ${msg.ts}: ${msg.body}`);
  // ... do the work here. If it throws, this job is gone (it was claimed);
  // see peek-ack-worker.ts and dead-letter.ts for safer patterns.
  if (++done >= limit) break; // `break` leaves every job not yet yielded in the queue
}
console.log(`worker stopped after ${done} job(s)`);
