/**
 * Put-back: the one operation that returns a message taken but never
 * delivered to where it was, pending again under its own id (so in its
 * place in the queue). The delivery core (lib/delivery) uses it after a
 * failed or interrupted delivery; a batch taken without a reservation uses
 * it to roll back.
 * @module
 */
import type { Message, Selection } from "./types.ts";

/** What can move one message by id: a backend, or the SQLite store (synchronously). */
export interface MessageMover<R> {
  move(source: string, target: string, selection: Selection): R;
}

/**
 * Make `message` pending again in `queue`. `from` is where it is now: `queue`
 * itself for a claimed message, the destination for a moved one.
 */
export function putBack<R>(store: MessageMover<R>, queue: string, message: Message, from = queue): R {
  return store.move(from, queue, { exactId: message.ts, requireUnclaimed: false });
}
