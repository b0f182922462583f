/**
 * The broker's HTTP API and dashboard mounted in your own Bun.serve, under
 * /broker, next to your application's routes.
 *
 *     BROKER_TOKEN=s3cret bun examples/serve-mount.ts    # prints the URL (random port; PORT=8080 to choose)
 *     open http://127.0.0.1:<port>/broker/               # the dashboard asks for the token once per tab
 *     curl -H 'Authorization: Bearer s3cret' -d 'resize a.png' http://127.0.0.1:<port>/broker/api/queues/jobs/messages
 *
 * Without BROKER_TOKEN the API is open to anyone who can reach the port, so
 * it listens on 127.0.0.1 only. EXAMPLE_LIMIT=N stops the server after N
 * messages were written through the API.
 */
import { createHandler, openBroker } from "../index.ts"; // in your project: from "simplebroker"

const limit = Number(process.env.EXAMPLE_LIMIT ?? Infinity);
const broker = await openBroker(); // .broker.db in the current directory (any backend its config names)
const brokerApi = createHandler(broker, { prefix: "/broker", token: process.env.BROKER_TOKEN || undefined });
let written = 0;

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0), // 0: any free port
  idleTimeout: 30, // the dashboard's event stream sends a keep-alive every 5 s
  async fetch(req) {
    const { pathname } = new URL(req.url);
    if (pathname === "/broker" || pathname.startsWith("/broker/")) {
      const res = await brokerApi(req);
      if (res.status === 201 && ++written >= limit) setImmediate(shutdown);
      return res;
    }
    if (pathname === "/") return new Response("my application\n");
    return new Response("not found\n", { status: 404 });
  },
});
console.log(`dashboard at ${server.url}broker/`);

async function shutdown(): Promise<void> {
  brokerApi.close(); // ends the live event stream's watching
  await server.stop(true);
  await broker.close();
}
process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);
