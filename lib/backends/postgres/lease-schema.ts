/**
 * The tables of leases and delays in the PostgreSQL schema (docs/leases.md#postgresql):
 * `held` keeps every message out of its queue's pending set (under a lease,
 * or waiting for its delay) with the `order_id` it had or will have, so it
 * comes back in its original place; `attempts` remembers the lease count of
 * messages that came back. Created with the rest of the schema; a store made
 * before them gets them the first time this version opens it.
 * @module
 */

/** Relations the lease tables add to the schema (tables and their indexes). */
export const LEASE_RELATIONS = [
  "held",
  "held_pkey",
  "idx_held_ts_unique",
  "idx_held_queue_due",
  "idx_held_due",
  "attempts",
  "attempts_pkey",
] as const;

/**
 * Milliseconds since the epoch on the server's clock, when the statement
 * arrived (it advances within a transaction; stable within a statement, so
 * `due <= NOW_MS` is an index condition).
 */
export const NOW_MS = "floor(extract(epoch from statement_timestamp()) * 1000)::bigint";

/** DDL of the lease tables (idempotent). */
export function leaseDdl(s: string): string {
  return `CREATE TABLE IF NOT EXISTS ${s}.held (
  order_id BIGINT PRIMARY KEY,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  ts BIGINT NOT NULL,
  due BIGINT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  token TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_held_ts_unique ON ${s}.held (ts);
CREATE INDEX IF NOT EXISTS idx_held_queue_due ON ${s}.held (queue, due);
CREATE INDEX IF NOT EXISTS idx_held_due ON ${s}.held (due);
CREATE TABLE IF NOT EXISTS ${s}.attempts (ts BIGINT PRIMARY KEY, attempt INTEGER NOT NULL);`;
}

/** A boolean SQL expression: both lease tables exist. */
export function leaseTablesPresent(s: string): string {
  return `(to_regclass('${s}.held') IS NOT NULL AND to_regclass('${s}.attempts') IS NOT NULL)`;
}

/**
 * `AND NOT EXISTS (...)`: no held message of the queue in parameter `queueParam`
 * is due. Added to pending-row selections so that a claim, peek or move never
 * passes over a message that should be back first; an uncorrelated subquery,
 * evaluated once per statement through the `(queue, due)` index.
 */
export function noneDue(s: string, queueParam: string): string {
  return ` AND NOT ${someDue(s, queueParam)}`;
}

/** `EXISTS (...)`: a held message of the queue in parameter `queueParam` (with an id above `afterParam`) is due. */
export function someDue(s: string, queueParam: string, afterParam?: string): string {
  const above = afterParam ? ` AND h.ts > ${afterParam}` : "";
  return `EXISTS (SELECT 1 FROM ${s}.held h WHERE h.queue = ${queueParam} AND h.due <= ${NOW_MS}${above})`;
}
