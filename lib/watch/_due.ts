/**
 * When the earliest held message of some queues falls due (docs/leases.md):
 * nobody writes when a lease runs out or a delayed message becomes due, so
 * a waiter that wants it on time sets a timer for it.
 * @module
 */
import type { Backend } from "../core/types.ts";

/** Held rows looked at per queue: with more, the earliest may be missed and the caller's own cap bounds the wait. */
const HELD_PAGE = 1000;
/** Margin after a due time, so the look that follows finds the message due. */
const MARGIN_MS = 2;

/** The earliest due time (ms since the epoch) of the held messages of `queues`; undefined when none is held. */
export async function earliestDue(backend: Backend, queues: readonly string[]): Promise<number | undefined> {
  if (!backend.peekHeld) return undefined;
  let due: number | undefined;
  for (const queue of queues) {
    for (const h of await backend.peekHeld(queue, { limit: HELD_PAGE })) {
      if (due === undefined || h.dueMs < due) due = h.dueMs;
    }
  }
  return due;
}

/** Milliseconds until the earliest held message of `queues` is due, plus a small margin; undefined when none is held. */
export async function msUntilDue(backend: Backend, queues: readonly string[]): Promise<number | undefined> {
  const due = await earliestDue(backend, queues);
  return due === undefined ? undefined : Math.max(0, due - Date.now()) + MARGIN_MS;
}
