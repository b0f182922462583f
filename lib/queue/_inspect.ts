/**
 * Inspection helpers of `Broker` and the queue handles, built on the
 * required core of the Backend contract (peek pages and claims by id), so
 * they work on every backend: finding message ids by body, the newest
 * pending id, and deleting a list of ids.
 * @module
 */
import { ArgumentError } from "../core/errors.ts";
import type { Backend } from "../core/types.ts";

/** What {@link findMessageIds} looks for. Every field is optional. */
export interface FindOptions {
  /** Only messages whose body contains this text (case-sensitive). */
  bodyContains?: string;
  /** Only ids strictly greater than this. */
  after?: bigint;
  /** Only ids strictly less than this. */
  before?: bigint;
  /** At most this many ids (default: all). */
  limit?: number;
}

const PAGE = 1000;

/** Ids of the pending messages of `queue` that match, oldest first. */
export async function findMessageIds(backend: Backend, queue: string, options: FindOptions = {}): Promise<bigint[]> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (!(limit >= 0)) throw new ArgumentError("limit must be zero or more");
  const found: bigint[] = [];
  let after = options.after;
  while (found.length < limit) {
    const page = await backend.peek(queue, { after, before: options.before, limit: PAGE });
    for (const m of page) {
      if (options.bodyContains === undefined || m.body.includes(options.bodyContains)) found.push(m.ts);
      if (found.length >= limit) break;
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.ts;
  }
  return found;
}

/** The id of the newest pending message of `queue`, or undefined when nothing is pending. */
export async function latestPendingTimestamp(backend: Backend, queue: string): Promise<bigint | undefined> {
  let latest: bigint | undefined;
  for (;;) {
    const page = await backend.peek(queue, { after: latest, limit: PAGE });
    if (page.length > 0) latest = page[page.length - 1]!.ts;
    if (page.length < PAGE) return latest;
  }
}

/** Claim (logically delete) the pending messages of `queue` with these ids; returns how many were found. */
export async function deleteMany(backend: Backend, queue: string, ids: Iterable<bigint>): Promise<number> {
  let n = 0;
  for (const id of new Set(ids)) n += (await backend.claim(queue, { exactId: id })).length;
  return n;
}
