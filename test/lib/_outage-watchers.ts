/**
 * A process running library watchers without handlers for outages (so the
 * default stderr report is used), for the outage tests: `bun
 * _outage-watchers.ts <postgres|redis> <url> <schema> <queue>...` starts a
 * `QueueWatcher` per queue (a queue written `iter:<name>` gets a `watchQueue`
 * iterator instead) and prints each delivery as `<queue> <body>` on stdout.
 * Ends on SIGTERM.
 */
import { storeTarget } from "../services.ts";
import { QueueWatcher, watchQueue } from "../../lib/watch/watcher.ts";

const [kind, url, name, ...queues] = process.argv.slice(2) as ["postgres" | "redis", string, string, ...string[]];
const target = storeTarget(kind, url, name);
const stop = new AbortController();
const runs: Promise<unknown>[] = [];
for (const q of queues) {
  if (q.startsWith("iter:")) {
    const queue = q.slice(5);
    runs.push(
      (async () => {
        for await (const m of watchQueue(queue, { target, signal: stop.signal })) console.log(`${queue} ${m.body}`);
      })(),
    );
  } else {
    const watcher = new QueueWatcher(q, (m) => void console.log(`${q} ${m.body}`), { db: target, signal: stop.signal });
    runs.push(watcher.run());
  }
}
process.on("SIGTERM", () => stop.abort());
const outcomes = await Promise.allSettled(runs);
const failed = outcomes.find((o) => o.status === "rejected");
if (failed) {
  console.error(`failed: ${(failed as PromiseRejectedResult).reason?.message}`);
  process.exit(1);
}
