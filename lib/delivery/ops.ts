/**
 * The checks every front end makes before delivering (limit, destination),
 * the put-back operation, and the asynchronous source of a walk on any
 * {@link Backend}.
 * @module
 */
import { reserveBatch } from "../backends/capabilities.ts";
import { ArgumentError } from "../core/errors.ts";
import { putBack } from "../core/put-back.ts";
import type { Backend } from "../core/types.ts";
import { validateQueueName } from "../core/validate.ts";
import type { AsyncSource } from "./drive.ts";
import type { WalkKind } from "./loops.ts";

/** A limit or batch size: a whole number, at least 1. */
export function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new ArgumentError("limit must be at least 1");
}

/** The destination's queue name, both names validated and different (a `Queue` or a name). */
export function destinationName(source: string, destination: string | { readonly name: string }): string {
  const dest = typeof destination === "string" ? destination : destination.name;
  for (const name of [source, dest]) validateQueueName(name);
  checkDestination(source, dest);
  return dest;
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

export { putBack } from "../core/put-back.ts";

/**
 * The source of a walk over `queue` of `backend`: claims, peeks or moves (to
 * `destination`), reserved batches, and put-back. The queue names are
 * already resolved and validated.
 */
export function backendSource(backend: Backend, queue: string, kind: WalkKind, destination?: string): AsyncSource {
  if (kind === "move" && destination === undefined) throw new ArgumentError("a move needs a destination");
  return {
    take: (sel) =>
      kind === "claim"
        ? backend.claim(queue, sel)
        : kind === "peek"
          ? backend.peek(queue, sel)
          : backend.move(queue, destination!, sel),
    reserve: (sel) => reserveBatch(backend, queue, sel, kind === "move" ? destination : undefined),
    putBack: async (m) => {
      if (kind !== "peek") await putBack(backend, queue, m, kind === "move" ? destination : queue);
    },
  };
}
