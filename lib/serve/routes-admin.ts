/**
 * The rename and dump routes, with the semantics of `broker rename` and
 * `broker dump` (docs/serve.md lists them).
 * @module
 */
import { ArgumentError } from "../core/errors.ts";
import { validateQueueName } from "../core/validate.ts";
import type { Broker } from "../queue/broker.ts";
import { HttpError, json, readJsonObject } from "./_http.ts";

/** Bytes gathered before each chunk of a dump response, as `broker dump` gathers them before each stdout write. */
const CHUNK = 64 * 1024;

/**
 * `POST /api/queues/{queue}/rename` with `{ "to": "new", "retargetAliases"?: true }`,
 * as `broker rename`: every row of the queue (an `@alias` is resolved) moves
 * to `to` in one transaction, and its aliases follow unless `retargetAliases`
 * is false → 200 with the fields of `rename --json`. The same name, or a `to`
 * that already has rows, is 409; a queue with no rows is 404 (the CLI's exit 2).
 */
export async function renameQueue(broker: Broker, queue: string, req: Request): Promise<Response> {
  const args = await readJsonObject(req, broker.config.maxMessageSize);
  const to = args.to;
  if (typeof to !== "string" || to === "") throw new HttpError(400, "INVALID_ARGUMENT", "'to' (the new queue name) is required");
  const retarget = args.retargetAliases ?? true;
  if (typeof retarget !== "boolean") throw new HttpError(400, "INVALID_ARGUMENT", "'retargetAliases' must be true or false");
  const source = await broker.resolveQueue(queue);
  validateQueueName(to);
  if (source === to) throw new HttpError(409, "SAME_QUEUE", "Source and target queues cannot be the same");
  let result: { messages: number; aliases: number };
  try {
    result = await broker.rename(source, to, { retargetAliases: retarget });
  } catch (error) {
    // Every backend refuses an occupied target with this message, inside the rename's transaction.
    if (error instanceof ArgumentError && error.message === "Target queue already exists") {
      throw new HttpError(409, "QUEUE_EXISTS", `Target queue '${to}' already exists`);
    }
    throw error;
  }
  if (result.messages === 0) throw new HttpError(404, "QUEUE_NOT_FOUND", `Queue '${source}' has no messages`);
  return json({
    old_queue: source,
    new_queue: to,
    messages_renamed: result.messages,
    aliases_retargeted: result.aliases,
    renamed: true,
  });
}

/**
 * `GET /api/dump?include=GLOB&exclude=GLOB` (each repeatable): the
 * `simplebroker-dump` v1 lines of `broker dump` with the same filters,
 * byte for byte, streamed as `application/x-ndjson`. The header line is read
 * before answering, so a store that cannot be read is a JSON error, not a
 * cut-off stream.
 */
export async function dumpStore(broker: Broker, url: URL): Promise<Response> {
  const lines = broker.dump({ include: url.searchParams.getAll("include"), exclude: url.searchParams.getAll("exclude") });
  const first = await lines.next();
  let pending = first.done ? "" : `${first.value}\n`;
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const next = await lines.next();
        if (next.done) {
          if (pending !== "") controller.enqueue(encoder.encode(pending));
          controller.close();
          return;
        }
        pending += `${next.value}\n`;
        if (pending.length >= CHUNK) {
          controller.enqueue(encoder.encode(pending));
          pending = "";
          return;
        }
      }
    },
    async cancel() {
      await lines.return();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "application/x-ndjson; charset=utf-8",
      "content-disposition": 'attachment; filename="broker-dump.ndjson"',
    },
  });
}
