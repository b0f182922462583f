/**
 * SQL of the PostgreSQL backend's queue operations, built per selection
 * shape (so each shape becomes one prepared statement per connection), and
 * the body codec that lets bodies with NUL characters through TEXT columns.
 * @module
 */
import type { Message, QueueStats, Selection } from "../../core/types.ts";
import { noneDue, someDue } from "./lease-schema.ts";

/** A statement and its positional parameters. */
export interface Statement {
  text: string;
  params: unknown[];
}

type Row = { order_id: bigint; body: string; ts: bigint };

/**
 * PostgreSQL TEXT cannot hold U+0000. A body with a NUL (or one that starts
 * with the marker itself) is stored as the noncharacter U+FDD0 followed by
 * its JSON string form; every other body is stored as it is.
 */
const MARKER = "\uFDD0";

/** A body as stored in TEXT: NUL-bearing (or marker-leading) bodies are encoded, others kept as they are. */
export function encodeBody(body: string): string {
  return body.includes("\0") || body.startsWith(MARKER) ? MARKER + JSON.stringify(body) : body;
}

/** The inverse of {@link encodeBody}. */
export function decodeBody(stored: string): string {
  if (!stored.startsWith(MARKER)) return stored;
  try {
    const value: unknown = JSON.parse(stored.slice(MARKER.length));
    return typeof value === "string" ? value : stored;
  } catch {
    return stored;
  }
}

/** Rows of a claim/move in FIFO (`order_id`) order, as messages. */
export function toMessages(rows: Row[]): Message[] {
  if (rows.length > 1) rows.sort((a, b) => (a.order_id < b.order_id ? -1 : a.order_id > b.order_id ? 1 : 0));
  return rows.map((r) => ({ body: decodeBody(r.body), ts: r.ts }));
}

/**
 * The WHERE clause of a selection; parameters are numbered from `params.length + 1`.
 * With schema `s`, a pending-only selection matches nothing while a held message of
 * the queue is due (the caller returns those first: see leases.ts).
 */
export function where(queue: string, sel: Selection, unclaimedOnly: boolean, params: unknown[], s?: string): string {
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const pending = (q: string) => (unclaimedOnly ? ` AND claimed = FALSE${s ? noneDue(s, q) : ""}` : "");
  if (sel.exactId !== undefined) {
    const id = p(sel.exactId);
    const q = p(queue);
    return `ts = ${id} AND queue = ${q}${pending(q)}`;
  }
  const q = p(queue);
  let text = `queue = ${q}${pending(q)}`;
  if (sel.after !== undefined) text += ` AND ts > ${p(sel.after)}`;
  if (sel.before !== undefined) text += ` AND ts < ${p(sel.before)}`;
  return text;
}

/**
 * For a selection built with the due guard (`where` with `s`): one more row of
 * NULLs when a held message of the queue is due, so the caller knows to return
 * those first and run the statement again (leases.ts `afterDue`). The queue is
 * parameter 1 of a selection, or 2 after an exact id.
 */
function dueMarker(s: string, sel: Selection, guarded: boolean, columns: number): string {
  if (!guarded) return "";
  const nulls = Array.from({ length: columns }, () => "NULL").join(", ");
  return `\nUNION ALL SELECT ${nulls} WHERE ${someDue(s, sel.exactId !== undefined ? "$2" : "$1")}`;
}

function limitOf(sel: Selection): number {
  return sel.exactId !== undefined ? 1 : Math.max(0, Math.trunc(sel.limit ?? 1));
}

/** Pending rows without changing them, oldest first. */
export function peekSql(s: string, queue: string, sel: Selection): Statement {
  const params: unknown[] = [];
  const cond = where(queue, sel, !sel.includeClaimed, params, s);
  params.push(limitOf(sel), Math.max(0, Math.trunc(sel.offset ?? 0)));
  const n = params.length;
  // A page of a walk starts after the last id seen: read in ts order it is a range of the ts index;
  // in order_id order every page would filter out all the rows before it again. Both orders agree,
  // as ts and order_id are assigned together under the meta row lock.
  const order = sel.after !== undefined && sel.exactId === undefined ? "ts" : "order_id";
  return {
    text: `(SELECT body, ts FROM ${s}.messages WHERE ${cond} ORDER BY ${order} LIMIT $${n - 1} OFFSET $${n})${dueMarker(s, sel, !sel.includeClaimed, 2)}`,
    params,
  };
}

/**
 * Lock the oldest matching rows (skipping rows another transaction holds; an
 * exact id waits for its row instead) and return the CTE text.
 */
export function picked(s: string, cond: string, limitParam: number, exact: boolean): string {
  return `WITH picked AS MATERIALIZED (
  SELECT order_id FROM ${s}.messages WHERE ${cond} ORDER BY order_id LIMIT $${limitParam} FOR UPDATE${exact ? "" : " SKIP LOCKED"})`;
}

/**
 * Mark matching pending rows claimed; returns them. A `token` is stored with
 * them (`claim_token`), so a claim whose answer was lost can be collected
 * (claim-token.ts).
 */
export function claimSql(s: string, queue: string, sel: Selection, token?: string): Statement {
  const params: unknown[] = [];
  const cond = where(queue, sel, true, params, s);
  params.push(limitOf(sel));
  const limit = params.length;
  if (token !== undefined) params.push(token);
  const set = token === undefined ? "claimed = TRUE" : `claimed = TRUE, claim_token = $${params.length}::uuid`;
  return {
    text: `${picked(s, cond, limit, sel.exactId !== undefined)},
taken AS (UPDATE ${s}.messages m SET ${set} FROM picked WHERE m.order_id = picked.order_id
  RETURNING m.order_id, m.body, m.ts)
SELECT order_id, body, ts FROM taken${dueMarker(s, sel, true, 3)}`,
    params,
  };
}

/** Move matching rows to `target` (pending there) and notify `target` once when any moved. */
export function moveSql(s: string, source: string, target: string, sel: Selection, channel: string): Statement {
  const params: unknown[] = [];
  const cond = where(source, sel, sel.requireUnclaimed ?? true, params, s);
  params.push(limitOf(sel));
  const limit = params.length;
  params.push(target, channel);
  return {
    text: `${picked(s, cond, limit, sel.exactId !== undefined)},
moved AS (
  UPDATE ${s}.messages m SET queue = $${limit + 1}, claimed = FALSE FROM picked WHERE m.order_id = picked.order_id
  RETURNING m.order_id, m.body, m.ts),
woke AS (SELECT pg_notify($${limit + 2}, $${limit + 1}) FROM (SELECT 1 FROM moved LIMIT 1) one)
SELECT order_id, body, ts FROM moved WHERE (SELECT count(*) FROM woke) >= 0${dueMarker(s, sel, sel.requireUnclaimed ?? true, 3)}`,
    params,
  };
}

/**
 * Insert rows (queue, body, ts) in array order so `order_id` follows `ts`,
 * advance `meta.last_ts`, and notify each queue. Run with `meta` locked.
 */
export function insertSql(s: string, queues: string[], bodies: string[], ids: bigint[], channel: string): Statement {
  const wake = new Set(queues).size > 64 ? ["*"] : [...new Set(queues)];
  return {
    text: `WITH ins AS (
  INSERT INTO ${s}.messages (queue, body, ts)
  SELECT u.q, u.b, u.t FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS u(q, b, t, o) ORDER BY u.o
  RETURNING 1),
adv AS (UPDATE ${s}.meta SET last_ts = $4 WHERE singleton AND last_ts < $4 RETURNING 1),
woke AS (SELECT pg_notify($5, w) FROM unnest($6::text[]) AS w)
SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM adv) AS advanced, (SELECT count(*) FROM woke) AS woke`,
    params: [queues, bodies.map(encodeBody), ids.map(String), ids[ids.length - 1]!, channel, wake],
  };
}

/** `SELECT last_ts … FOR UPDATE`: the id allocator's lock. */
export function lockMetaSql(s: string): string {
  return `SELECT last_ts FROM ${s}.meta WHERE singleton FOR UPDATE`;
}

/** Per-queue counts (`pending`, `total`), optionally for names starting with a prefix. */
export function statsSql(s: string, prefix: string): Statement {
  const head = `SELECT queue, count(*) FILTER (WHERE claimed = FALSE) AS pending, count(*) AS total FROM ${s}.messages`;
  const tail = `GROUP BY queue ORDER BY queue COLLATE "C"`;
  return prefix
    ? { text: `${head} WHERE starts_with(queue, $1) ${tail}`, params: [prefix] }
    : { text: `${head} ${tail}`, params: [] };
}

/** A row of {@link statsSql}. */
export type StatRow = { queue: string; pending: bigint; total: bigint };

/** Counts of one queue from a {@link StatRow}. */
export function toStats(r: StatRow): QueueStats {
  const pending = Number(r.pending ?? 0n);
  const total = Number(r.total ?? 0n);
  return { queue: r.queue, pending, claimed: total - pending, total, exists: total > 0 };
}
