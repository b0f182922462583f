/**
 * An HTTP endpoint that enqueues every POST body into the "jobs" queue.
 *
 *     bun examples/serve-enqueue.ts              # prints the URL (random port; PORT=8080 to choose)
 *     curl -d 'resize b.png' http://localhost:<port>/
 *     bun examples/worker.ts                     # consumes them
 *
 * writeAsync() lets concurrent requests share one transaction (and one
 * fsync), so a burst of requests costs about one commit.
 * EXAMPLE_LIMIT=N stops the server after N enqueued messages.
 */
import { BrokerError, Queue } from "../index.ts"; // in your project: from "simplebroker"

const limit = Number(process.env.EXAMPLE_LIMIT ?? Infinity);
const jobs = new Queue("jobs", { persistent: true });
let enqueued = 0;

const server = Bun.serve({
  port: Number(process.env.PORT ?? 0), // 0: any free port
  async fetch(req) {
    if (req.method !== "POST") return new Response("POST a message body to enqueue it\n", { status: 405 });
    try {
      const id = await jobs.writeAsync(await req.text());
      if (++enqueued >= limit) setImmediate(shutdown);
      // Ids are 64-bit: send them as strings, JSON numbers would lose digits.
      return Response.json({ queue: jobs.name, id: String(id) }, { status: 201 });
    } catch (error) {
      // Invalid input (e.g. a body over BROKER_MAX_MESSAGE_SIZE) is the client's fault.
      const status = error instanceof BrokerError && error.code === "INVALID_ARGUMENT" ? 400 : 500;
      return Response.json({ error: (error as Error).message }, { status });
    }
  },
});
console.log(`enqueueing POST bodies into '${jobs.name}' at ${server.url}`);

function shutdown(): void {
  void server.stop().then(() => jobs.close()); // finish in-flight requests, then close
}
process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);
