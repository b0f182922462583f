/**
 * A dead-letter queue: jobs whose processing fails are parked in
 * "<queue>.dead" for a human (or a retry job) instead of being lost.
 *
 *     bun examples/dead-letter.ts
 *     bun cli/index.ts write orders '{"id": 1, "qty": 2}'
 *     bun cli/index.ts write orders 'not json'
 *     bun cli/index.ts read orders.dead            # the failed one
 *
 * EXAMPLE_LIMIT=N stops after N jobs (used by the tests).
 */
import { Queue } from "../index.ts"; // in your project: from "simplebroker"

const limit = Number(process.env.EXAMPLE_LIMIT ?? Infinity);
const stop = new AbortController();
process.once("SIGINT", () => stop.abort());
process.once("SIGTERM", () => stop.abort());

using orders = new Queue("orders", { persistent: true });
const deadLetters = `${orders.name}.dead`;

function processOrder(body: string): void {
  const order = JSON.parse(body) as { id?: unknown; qty?: unknown }; // throws on bad input
  if (typeof order.id !== "number" || typeof order.qty !== "number") throw new Error("order needs numeric id and qty");
  console.log(`order ${order.id}: ${order.qty} item(s)`);
}

let handled = 0;
for await (const msg of orders.watch({ signal: stop.signal })) {
  // watch() has already claimed msg. On failure, moveOne by exact id revives
  // that claimed row as a pending message in the dead-letter queue, keeping its id.
  try {
    processOrder(msg.body);
  } catch (error) {
    orders.moveOne(deadLetters, { exactId: msg.ts });
    console.log(`order message ${msg.ts} moved to ${deadLetters}: ${(error as Error).message}`);
  }
  if (++handled >= limit) break;
}
