// createHandler used as a library, in-process: the handler answers Requests
// directly under its prefix, and its event stream sees a write made through
// another connection of the same process (a synchronous Queue on the file).
import { afterAll, expect, test } from "bun:test";
import { createHandler, openBroker, Queue } from "../../index.ts";
import { tempDir } from "../helpers.ts";
import { openEvents } from "./_api-suite.ts";

const dir = tempDir("sb-handler-");
const broker = await openBroker(dir.path);
const handler = createHandler(broker, { prefix: "/mq", readOnly: false });
afterAll(async () => {
  handler.close();
  await broker.close();
  dir[Symbol.dispose]();
}, 60_000); // cleanup of every store opened here may take a while on a busy machine

test("answers under its prefix only", async () => {
  const write = await handler(new Request("http://app/mq/api/queues/jobs/messages", { method: "POST", body: "one" }));
  expect(write.status).toBe(201);
  const list = await handler(new Request("http://app/mq/api/queues"));
  expect(await list.json()).toEqual({ queues: [{ name: "jobs", pending: 1, claimed: 0, total: 1 }] });
  expect((await handler(new Request("http://app/api/queues"))).status).toBe(404);
  expect((await handler(new Request("http://app/mqx/api/queues"))).status).toBe(404);
  const page = await handler(new Request("http://app/mq/"));
  expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
});

test("an empty token is refused rather than matching an empty header", () => {
  expect(() => createHandler(broker, { token: "" })).toThrow("The token cannot be empty");
});

test("the event stream sees a write through another connection of this process", async () => {
  // openEvents needs a URL: serve the handler on a free loopback port for this test.
  await using server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handler });
  const events = openEvents(`${server.url}mq/api/events`);
  try {
    expect((await events.next()).event).toBe("queues");
    using q = new Queue("other", { dbPath: dir.path });
    q.write("from a Queue");
    expect(await events.until((e) => (e.data as { name?: string }).name === "other")).toEqual({
      event: "queue",
      data: { name: "other", pending: 1, claimed: 0, total: 1 },
    });
  } finally {
    events.close();
  }
}, 30_000);

test("rename and dump under the prefix: the dump is Broker.dump's lines, each ended by a newline", async () => {
  await handler(new Request("http://app/mq/api/queues/before/messages", { method: "POST", body: "r" }));
  const renamed = await handler(
    new Request("http://app/mq/api/queues/before/rename", { method: "POST", body: JSON.stringify({ to: "after" }) }),
  );
  expect(await renamed.json()).toMatchObject({ old_queue: "before", new_queue: "after", messages_renamed: 1 });
  const dump = await handler(new Request("http://app/mq/api/dump?include=after"));
  expect(dump.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
  const lines: string[] = [];
  for await (const line of broker.dump({ include: ["after"] })) lines.push(`${line}\n`);
  expect(lines.length).toBe(2);
  expect(await dump.text()).toBe(lines.join(""));
});
