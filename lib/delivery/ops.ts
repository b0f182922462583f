/**
 * The checks every front end makes before delivering (limit, destination),
 * the put-back operation, and the asynchronous source of a walk on any
 * {@link Backend}.
 * @module
 */
import { reserveBatch } from "../backends/capabilities.ts";
import { ArgumentError } from "../core/errors.ts";
import type { Backend, Message, Selection } from "../core/types.ts";
import type { AsyncSource } from "./drive.ts";
import type { WalkKind } from "./loops.ts";

/** A limit or batch size: a whole number, at least 1. */
export function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new ArgumentError("limit must be at least 1");
}

/** A move needs two different queues (compared after alias resolution). */
export function checkDestination(
  source: string,
  destination: string,
  error: { message?: string; code?: "ERROR" | "INVALID_ARGUMENT" } = {},
): void {
  if (source === destination) {
    throw new ArgumentError(error.message ?? "Source and destination queues cannot be the same", { code: error.code });
  }
}

/** What can move one message by id (a backend, the SQLite store). */
interface Mover<R> {
  move(source: string, target: string, selection: Selection): R;
}

/**
 * Put back a message that was taken but never delivered: it becomes pending
 * again in `queue`, keeping its id (so its place in the queue). `from` is
 * where it is now: `queue` itself for a claimed message, the destination for
 * a moved one.
 */
export function putBack<R>(store: Mover<R>, queue: string, message: Message, from = queue): R {
  return store.move(from, queue, { exactId: message.ts, requireUnclaimed: false });
}

/**
 * The source of a walk over `queue` of `backend`: claims, peeks or moves (to
 * `destination`), reserved batches, and put-back. The queue names are
 * already resolved and validated.
 */
export function backendSource(backend: Backend, queue: string, kind: WalkKind, destination?: string): AsyncSource {
  if (kind === "move" && destination === undefined) throw new ArgumentError("a move needs a destination");
  return {
    take: (sel) =>
      kind === "claim" ? backend.claim(queue, sel) : kind === "peek" ? backend.peek(queue, sel) : backend.move(queue, destination!, sel),
    reserve: (sel) => reserveBatch(backend, queue, sel, kind === "move" ? destination : undefined),
    putBack: async (m) => {
      if (kind !== "peek") await putBack(backend, queue, m, kind === "move" ? destination : queue);
    },
  };
}
