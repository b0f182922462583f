/**
 * SQL of the PostgreSQL lease and delay transitions (docs/leases.md#postgresql).
 * A held message lives in `held` with the `order_id` and id it has in
 * `messages`; coming back re-inserts it there under both, so it takes its
 * original place in the queue's order. Deadlines are on the server's clock.
 * @module
 */
import type { SQL } from "bun";
import type { DueTime, LeaseSelection } from "../../core/leases.ts";
import { NOW_MS, someDue } from "./lease-schema.ts";
import { picked, type Statement, where } from "./ops.ts";

/** A row of a lease or of `peekHeld`. */
export interface HeldRow {
  order_id: bigint;
  body: string;
  ts: bigint;
  due: bigint;
  attempt: number;
  token: string | null;
}

/**
 * After a `gone` CTE that deleted held rows (order_id, queue, body, ts,
 * attempt): insert them into `messages` as pending (in `queue` when given,
 * else their own), remember attempts above zero, notify each queue that got
 * messages on `channel`, and return their ids in order.
 */
function backToPending(s: string, channel: string, queue: string | undefined, params: unknown[]): string {
  params.push(channel);
  const chan = `$${params.length}`;
  let q = "queue";
  if (queue !== undefined) {
    params.push(queue);
    q = `$${params.length}::text`;
  }
  return `,
ins AS (INSERT INTO ${s}.messages (order_id, queue, body, ts) SELECT order_id, ${q}, body, ts FROM gone RETURNING queue, ts),
mem AS (INSERT INTO ${s}.attempts (ts, attempt) SELECT ts, attempt FROM gone WHERE attempt > 0
  ON CONFLICT (ts) DO UPDATE SET attempt = EXCLUDED.attempt RETURNING 1),
woke AS (SELECT pg_notify(${chan}, w.queue) FROM (SELECT DISTINCT queue FROM ins) w)
SELECT ts FROM ins WHERE (SELECT count(*) FROM woke) + (SELECT count(*) FROM mem) >= 0 ORDER BY ts`;
}

const GONE = "order_id, queue, body, ts, attempt";

/** Return the due held messages of `queue` (of each of a list; every queue when undefined) to pending. */
export function promoteSql(s: string, channel: string, queue?: string | readonly string[]): Statement {
  const params: unknown[] = [];
  let cond = `due <= ${NOW_MS}`;
  if (typeof queue === "string") {
    params.push(queue);
    cond = `queue = $1 AND ${cond}`;
  } else if (queue !== undefined) {
    params.push(queue);
    cond = `queue = ANY($1::text[]) AND ${cond}`;
  }
  // Rows are locked in one order (order_id) before they are deleted: two connections returning due messages
  // at once (one queue and all queues walk different plans) would otherwise lock them crosswise and deadlock.
  const locked = `SELECT order_id FROM ${s}.held WHERE ${cond} ORDER BY order_id FOR UPDATE`;
  const text = `WITH gone AS (DELETE FROM ${s}.held WHERE order_id IN (${locked}) RETURNING ${GONE})${backToPending(s, channel, undefined, params)}`;
  return { text, params };
}

/** Take the oldest pending rows of a selection under a lease with `token`; run after {@link promoteSql}. */
export function leaseSql(s: string, queue: string, sel: LeaseSelection, token: string): Statement {
  const params: unknown[] = [];
  const cond = where(queue, sel, true, params);
  params.push(sel.exactId !== undefined ? 1 : Math.max(0, Math.trunc(sel.limit ?? 1)));
  const limit = params.length;
  params.push(Math.max(1, Math.trunc(sel.leaseMs)), token);
  return {
    text: `${picked(s, cond, limit, sel.exactId !== undefined)},
taken AS (DELETE FROM ${s}.messages m USING picked WHERE m.order_id = picked.order_id RETURNING m.order_id, m.queue, m.body, m.ts),
forgot AS (DELETE FROM ${s}.attempts a USING taken WHERE a.ts = taken.ts RETURNING a.ts, a.attempt),
kept AS (INSERT INTO ${s}.held (order_id, queue, body, ts, due, attempt, token)
  SELECT t.order_id, t.queue, t.body, t.ts, ${NOW_MS} + $${limit + 1}, COALESCE(f.attempt, 0) + 1, $${limit + 2}
  FROM taken t LEFT JOIN forgot f ON f.ts = t.ts
  RETURNING order_id, body, ts, due, attempt, token)
SELECT order_id, body, ts, due, attempt, token FROM kept ORDER BY order_id`,
    params,
  };
}

/** Held rows of `queue` under a live lease (with `token` when given) among `ids`; parameters appended. */
function underLease(queue: string, ids: readonly bigint[], token: string | undefined, params: unknown[]): string {
  params.push(queue, ids.map(String));
  let text = `queue = $${params.length - 1} AND ts = ANY($${params.length}::bigint[]) AND token IS NOT NULL AND due > ${NOW_MS}`;
  if (token !== undefined) {
    params.push(token);
    text += ` AND token = $${params.length}`;
  }
  return text;
}

/** Delete leased rows for good; returns their ids. */
export function ackSql(s: string, queue: string, ids: readonly bigint[], token?: string): Statement {
  const params: unknown[] = [];
  const cond = underLease(queue, ids, token, params);
  return { text: `WITH gone AS (DELETE FROM ${s}.held WHERE ${cond} RETURNING ts) SELECT ts FROM gone ORDER BY ts`, params };
}

/**
 * End leases: back to pending now (to `target` for dead letters, attempt
 * forgotten), or, with `delayMs`, held without a token until then.
 */
export function releaseSql(
  s: string,
  channel: string,
  queue: string,
  ids: readonly bigint[],
  opts: { delayMs?: number; token?: string; target?: string },
): Statement {
  const params: unknown[] = [];
  const cond = underLease(queue, ids, opts.token, params);
  const delay = Math.trunc(opts.delayMs ?? 0);
  if (delay > 0 && opts.target === undefined) {
    params.push(delay, channel, queue);
    const n = params.length;
    // Idle waiters on the queue are told, so they set their due timer for it (docs/leases.md#postgresql).
    return {
      text: `WITH kept AS (UPDATE ${s}.held SET token = NULL, due = ${NOW_MS} + $${n - 2} WHERE ${cond} RETURNING ts),
woke AS (SELECT pg_notify($${n - 1}, $${n}::text) WHERE EXISTS (SELECT 1 FROM kept))
SELECT ts, (SELECT count(*) FROM woke) AS woke FROM kept ORDER BY ts`,
      params,
    };
  }
  const returning = opts.target === undefined ? GONE : "order_id, queue, body, ts, 0 AS attempt";
  const text = `WITH gone AS (DELETE FROM ${s}.held WHERE ${cond} RETURNING ${returning})${backToPending(s, channel, opts.target, params)}`;
  return { text, params };
}

/** Move a live lease's deadline to now + `leaseMs`; one row back when it held. */
export function extendSql(s: string, queue: string, id: bigint, leaseMs: number, token?: string): Statement {
  const params: unknown[] = [];
  const cond = underLease(queue, [id], token, params);
  params.push(Math.max(1, Math.trunc(leaseMs)));
  return { text: `UPDATE ${s}.held SET due = ${NOW_MS} + $${params.length} WHERE ${cond} RETURNING ts`, params };
}

/**
 * Insert delayed messages under ids allocated by the caller (with `meta`
 * locked) and order ids drawn now; advance `last_ts`; notify the queue, so
 * idle waiters set their due timer for them (or take them, when due already).
 */
export function writeDelayedSql(
  s: string,
  channel: string,
  queue: string,
  bodies: string[],
  ids: bigint[],
  due: DueTime,
): Statement {
  // A delay is added to the server's clock, so a client clock that is off does not change it.
  const at = "atMs" in due ? "$3::bigint" : `(${NOW_MS} + $3::bigint)`;
  return {
    text: `WITH ins AS (
  INSERT INTO ${s}.held (order_id, queue, body, ts, due, attempt, token)
  SELECT nextval('${s}.messages_order_id_seq'), $1, o.b, o.t, ${at}, 0, NULL
  FROM (SELECT u.b, u.t FROM unnest($2::text[], $4::bigint[]) WITH ORDINALITY AS u(b, t, o) ORDER BY u.o) o
  RETURNING 1),
adv AS (UPDATE ${s}.meta SET last_ts = $5 WHERE singleton AND last_ts < $5 RETURNING 1),
woke AS (SELECT pg_notify($6, $1))
SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM adv) AS advanced, (SELECT count(*) FROM woke) AS woke`,
    params: [queue, bodies, Math.trunc("atMs" in due ? due.atMs : due.delayMs), ids.map(String), ids[ids.length - 1]!, channel],
  };
}

/** Held counts per queue (one queue when named). */
export function heldStatsSql(s: string, queue?: string): Statement {
  const head = `SELECT queue, count(*) FILTER (WHERE token IS NOT NULL) AS leased, count(*) FILTER (WHERE token IS NULL) AS scheduled
FROM ${s}.held`;
  const tail = `GROUP BY queue ORDER BY queue COLLATE "C"`;
  return queue === undefined
    ? { text: `${head} ${tail}`, params: [] }
    : { text: `${head} WHERE queue = $1 ${tail}`, params: [queue] };
}

/** Held rows of `queue` in id order, at most `limit` after `after`. */
export function peekHeldSql(s: string, queue: string, after: bigint | undefined, limit: number): Statement {
  const params: unknown[] = [queue, Math.max(0, Math.trunc(limit))];
  const range = after === undefined ? "" : ` AND ts > $${params.push(after)}`;
  return {
    text: `SELECT order_id, body, ts, due, attempt, token FROM ${s}.held WHERE queue = $1${range} ORDER BY ts LIMIT $2`,
    params,
  };
}

/** Delete every message of `queue` (all queues when undefined), held ones and attempt memory included; how many. */
export function deleteMessages(db: SQL, s: string, queue?: string): Promise<number> {
  const only = queue === undefined ? "" : " WHERE queue = $1";
  const params = queue === undefined ? [] : [queue];
  return db.begin(async (tx) => {
    if (queue === undefined) await tx.unsafe(`DELETE FROM ${s}.attempts`);
    else await tx.unsafe(`DELETE FROM ${s}.attempts a USING ${s}.messages m WHERE m.queue = $1 AND a.ts = m.ts`, params);
    const pending = await tx.unsafe(`DELETE FROM ${s}.messages${only}`, params);
    const held = await tx.unsafe(`DELETE FROM ${s}.held${only}`, params);
    return pending.count + held.count;
  });
}

/** Whether `queue` has a pending message (with an id above `after`), a due held one counting: the claim that follows returns it first. */
export function hasPendingSql(s: string, queue: string, after?: bigint): Statement {
  const head = `SELECT EXISTS (SELECT 1 FROM ${s}.messages WHERE queue = $1 AND claimed = FALSE`;
  return after === undefined
    ? { text: `${head}) OR ${someDue(s, "$1")} AS e`, params: [queue] }
    : { text: `${head} AND ts > $2) OR ${someDue(s, "$1", "$2")} AS e`, params: [queue, after] };
}

/** Milliseconds until the next held message of `queues` is due (`ms` NULL when none is held). */
export function untilDueSql(s: string, queues: readonly string[]): Statement {
  return { text: `SELECT min(due) - ${NOW_MS} AS ms FROM ${s}.held WHERE queue = ANY($1::text[])`, params: [queues] };
}
