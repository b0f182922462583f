/**
 * At-least-once processing: look at a job, do the work, and only then
 * acknowledge it by deleting it. If the worker dies halfway, the job is
 * still pending and the next run sees it again.
 *
 *     bun examples/peek-ack-worker.ts
 *     bun cli/index.ts write jobs "send welcome mail to 42"
 *
 * Run a single worker per queue in this style: two peeking workers would
 * both see (and process) every job. EXAMPLE_LIMIT=N stops after N jobs.
 */
import { Queue } from "../index.ts"; // in your project: from "simplebroker"

const limit = Number(process.env.EXAMPLE_LIMIT ?? Infinity);
const stop = new AbortController();
process.once("SIGINT", () => stop.abort());
process.once("SIGTERM", () => stop.abort());

using jobs = new Queue("jobs", { persistent: true }); // one connection for all the acks

async function work(body: string): Promise<void> {
  // Stand-in for real work (an HTTP call, a file conversion, ...).
  await Promise.resolve();
  console.log(`done: ${body}`);
}

let handled = 0;
// peek: true leaves messages in the queue; the watcher shows each one once.
for await (const msg of jobs.watch({ peek: true, signal: stop.signal })) {
  try {
    await work(msg.body);
    // Acknowledge: claim exactly this message. false means someone else already did.
    if (!jobs.delete({ messageId: msg.ts })) console.log(`job ${msg.ts} was already acknowledged`);
  } catch (error) {
    // Not acknowledged: the job stays pending and is retried on the next start.
    console.error(`job ${msg.ts} failed, will be retried: ${(error as Error).message}`);
  }
  if (++handled >= limit) break;
}
