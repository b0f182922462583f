/**
 * Helpers of the SQLite store: the WHERE clause of a selection (docs/on-disk-format.md#transactions),
 * row mapping and error wrapping. The vacuum lock file is in _vacuum-lock.ts.
 * @module
 */
import { ArgumentError, BackendError } from "../../core/errors.ts";
import type { Message, QueueStats, Selection } from "../../core/types.ts";
import { isBusyError } from "./schema.ts";

/** A message row as selected or returned. */
export type Row = { id: bigint; body: string; ts: bigint };
/** One queue's counts as selected. */
export type StatRow = { queue: string; pending: bigint; total: bigint };

export function selectionWhere(queue: string, sel: Selection, unclaimedOnly: boolean): { where: string; params: unknown[] } {
  if (sel.exactId !== undefined) {
    return { where: `ts = ? AND queue = ?${unclaimedOnly ? " AND claimed = 0" : ""}`, params: [sel.exactId, queue] };
  }
  let where = unclaimedOnly ? "queue = ? AND claimed = 0" : "queue = ?";
  const params: unknown[] = [queue];
  if (sel.after !== undefined) {
    where += " AND ts > ?";
    params.push(sel.after);
  }
  if (sel.before !== undefined) {
    where += " AND ts < ?";
    params.push(sel.before);
  }
  return { where, params };
}

export function toMessage(r: Row): Message {
  return { body: r.body, ts: r.ts };
}

/** Claimed or moved rows (`RETURNING body, ts`) oldest first: ids are allocated in ts order, so ts order is id order. */
export function inTsOrder(rows: Message[]): Message[] {
  if (rows.length > 1) rows.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  return rows;
}

export function toStats(r: StatRow): QueueStats {
  const pending = Number(r.pending ?? 0n);
  const total = Number(r.total ?? 0n);
  return { queue: r.queue, pending, claimed: total - pending, total, exists: total > 0 };
}

export function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

export function wrapDbError(error: unknown, busyTimeout?: number): Error {
  if (error instanceof BackendError || error instanceof ArgumentError) return error;
  if (busyTimeout !== undefined && isBusyError(error)) {
    return new BackendError(
      `Database error: database is locked (another process held the write lock longer than BROKER_BUSY_TIMEOUT=${busyTimeout} ms)`,
      { cause: error, retryable: true },
    );
  }
  const text = error instanceof Error ? error.message : String(error);
  return new BackendError(`Database error: ${text}`, { cause: error, retryable: isBusyError(error) });
}
