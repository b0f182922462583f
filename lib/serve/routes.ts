/**
 * The JSON routes under `/api/queues`, each with the semantics of the CLI
 * command of the same name. Queue names in paths are URL-decoded and may be
 * `@aliases`; ids are 19-digit strings both ways.
 * @module
 */
import type { Broker } from "../queue/broker.ts";
import { parseTimestampBound } from "../time/timestamp.ts";
import type { Message, Selection } from "../core/types.ts";
import type { QueueBatcher } from "./_batch.ts";
import { formatId, HttpError, json, readBody, readJsonObject } from "./_http.ts";
import { toCounts } from "./events.ts";

/** Peek pages hold at most this many messages (`limit` above is refused). */
export const MAX_PAGE = 1000;
/** Peek page size when `limit` is not given. */
const DEFAULT_PAGE = 100;
/** `move` with `all: true` moves at most this many in one transaction, as the CLI's `move --all`. */
const MOVE_ALL_LIMIT = 1_000_000;

/** `GET /api/queues`: every queue with at least one row, sorted by name. */
export async function listQueues(broker: Broker): Promise<Response> {
  return json({ queues: (await broker.listStats()).map(toCounts) });
}

/** `GET /api/queues/{queue}`: one queue's counts (zeros when it has no rows). */
export async function queueCounts(broker: Broker, queue: string): Promise<Response> {
  return json(toCounts(await broker.queueStats(queue)));
}

/**
 * `POST /api/queues/{queue}/messages`: the raw body is the message → 201 `{ id }`.
 * Concurrent writes to one queue share a transaction (see `_batch.ts`).
 */
export async function writeMessage(broker: Broker, batch: QueueBatcher, queue: string, req: Request): Promise<Response> {
  const name = await broker.resolveQueue(queue); // a bad name is refused before the body is read
  const body = await readBody(req, broker.config.maxMessageSize);
  return json({ id: formatId(await batch.write(name, body)) }, 201);
}

/**
 * `GET /api/queues/{queue}/messages?limit=&after=&before=`: pending messages,
 * oldest first, without claiming them. `next` is the `after` of the next page
 * (null on the last one).
 */
export async function peekMessages(broker: Broker, queue: string, url: URL): Promise<Response> {
  const limit = intParam(url, "limit", DEFAULT_PAGE);
  if (limit < 1 || limit > MAX_PAGE) throw new HttpError(400, "INVALID_ARGUMENT", `limit must be between 1 and ${MAX_PAGE}`);
  const sel: Selection = { limit, after: boundParam(url, "after"), before: boundParam(url, "before") };
  const messages = await broker.peek(queue, sel);
  const last = messages.at(-1);
  return json({ messages: messages.map(toJson), next: messages.length === limit && last ? formatId(last.ts) : null });
}

/**
 * `POST /api/queues/{queue}/read`: claim the oldest pending message → 200 `{ id, body }`,
 * or 204. Concurrent claims on one queue share a transaction, each getting its own message.
 */
export async function readMessage(broker: Broker, batch: QueueBatcher, queue: string): Promise<Response> {
  const m = await batch.claim(await broker.resolveQueue(queue));
  return m ? json(toJson(m)) : new Response(null, { status: 204 });
}

/**
 * `POST /api/queues/{queue}/move` with `{ "to": "dest", "id"?, "all"?, "after"?, "before"? }`,
 * as `broker move`: the oldest pending message, every one (`all`), or one by
 * id (even a claimed one) → 200 `{ messages }`, or 204 when nothing matched.
 */
export async function moveMessages(broker: Broker, queue: string, req: Request): Promise<Response> {
  const args = await readJsonObject(req, broker.config.maxMessageSize);
  const to = args.to;
  if (typeof to !== "string" || to === "")
    throw new HttpError(400, "INVALID_ARGUMENT", "'to' (the destination queue) is required");
  const id = args.id === undefined ? undefined : parseId(args.id);
  const all = args.all === true;
  const after = stringArg(args, "after");
  const before = stringArg(args, "before");
  if (id !== undefined && all) throw new HttpError(400, "INVALID_ARGUMENT", "'id' cannot be used with 'all'");
  if (id !== undefined && (after !== undefined || before !== undefined)) {
    throw new HttpError(400, "INVALID_ARGUMENT", "'id' cannot be used with 'after' or 'before'");
  }
  const sel: Selection =
    id !== undefined
      ? { exactId: id, requireUnclaimed: false }
      : {
          after: after === undefined ? undefined : parseTimestampBound(after),
          before: before === undefined ? undefined : parseTimestampBound(before),
          limit: all ? MOVE_ALL_LIMIT : 1,
        };
  const moved = await broker.move(queue, to, sel); // both may be @aliases; the same queue twice is refused
  return moved.length > 0 ? json({ messages: moved.map(toJson) }) : new Response(null, { status: 204 });
}

/** `DELETE /api/queues/{queue}` (or every queue without one): remove the rows → 200 `{ deleted }`. */
export async function deleteQueue(broker: Broker, queue: string | undefined): Promise<Response> {
  return json({ deleted: await broker.delete(queue) });
}

/** `DELETE /api/queues/{queue}/messages/{id}`: delete one pending message → 200 `{ deleted: 1 }`, or 404. */
export async function deleteMessage(broker: Broker, queue: string, id: string): Promise<Response> {
  const found = await broker.deleteMessage(queue, parseId(id));
  if (!found) throw new HttpError(404, "MESSAGE_NOT_FOUND", `No pending message ${id} in queue '${queue}'`);
  return json({ deleted: 1 });
}

// --- internal ---

function toJson(m: Message): { id: string; body: string } {
  return { id: formatId(m.ts), body: m.body };
}

function parseId(value: unknown): bigint {
  if (typeof value !== "string" || !/^\d{19}$/.test(value) || BigInt(value) >= 2n ** 63n) {
    throw new HttpError(400, "INVALID_MESSAGE_ID", "invalid message ID: expected exactly 19 digits");
  }
  return BigInt(value);
}

function intParam(url: URL, name: string, fallback: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) throw new HttpError(400, "INVALID_ARGUMENT", `${name} must be a whole number`);
  return Number(raw);
}

function boundParam(url: URL, name: string): bigint | undefined {
  const raw = url.searchParams.get(name);
  return raw === null || raw === "" ? undefined : parseTimestampBound(raw);
}

function stringArg(args: Record<string, unknown>, name: string): string | undefined {
  const v = args[name];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new HttpError(400, "INVALID_ARGUMENT", `'${name}' must be a string`);
  return v;
}
