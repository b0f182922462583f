/**
 * The queue-name filters of `list` (`--prefix` literal, `--pattern` glob) and
 * `broadcast --pattern`, applied here, once, above every backend. Names are
 * matched with the linear glob matcher before any transaction starts: a
 * broadcast chooses its queues first, then writes to them in one transaction.
 * @module
 */
import { ArgumentError } from "../core/errors.ts";
import type { Backend, QueueStats } from "../core/types.ts";
import { validateQueuePrefix } from "../core/validate.ts";
import { compileGlob, globLiteralPrefix } from "../util/glob.ts";

/** `list`'s filter: a literal name prefix, or a glob (`*`, `?`, `[seq]`, `[!seq]`); not both. */
export interface QueueFilter {
  prefix?: string;
  pattern?: string;
}

/**
 * Stats of the queues with rows whose names pass `filter`, sorted by name.
 * The literal prefix (of a pattern: its text before the first `*`, `?` or
 * `[`) must be a valid queue-name prefix, as in 3.6.1.
 */
export async function listQueues(backend: Backend, filter: QueueFilter = {}): Promise<QueueStats[]> {
  if (filter.prefix !== undefined && filter.pattern !== undefined) {
    throw new ArgumentError("prefix and pattern cannot be used together");
  }
  const glob = filter.pattern === undefined ? undefined : compileGlob(filter.pattern);
  const prefix = filter.prefix ?? (glob ? globLiteralPrefix(glob.pattern) : "");
  if (filter.prefix !== undefined || glob) validateQueuePrefix(prefix);
  const rows = await backend.listStats(prefix ? { prefix } : undefined);
  return rows.filter((s) => s.queue.startsWith(prefix) && (!glob || glob.test(s.queue)));
}

/** Rounds of "list, match, write" before a broadcast stops insisting that no new queue appeared meanwhile. */
const BROADCAST_ROUNDS = 8;

/**
 * Write `body` to every queue with rows whose name matches `pattern` (every
 * queue when it is empty); returns how many. The queues are the ones that
 * have rows when the write transaction runs, as in 3.6.1: a queue created
 * between the listing and the transaction sends the broadcast round again
 * (names already matched are remembered), up to {@link BROADCAST_ROUNDS}.
 */
export async function broadcastMatching(backend: Backend, body: string, pattern?: string): Promise<number> {
  if (!pattern) return backend.broadcast(body);
  const glob = compileGlob(pattern);
  const verdicts = new Map<string, boolean>();
  for (let round = 1; ; round++) {
    const listed = (await backend.listStats()).map((s) => s.queue);
    const queues = listed.filter((q) => {
      let yes = verdicts.get(q);
      if (yes === undefined) verdicts.set(q, (yes = glob.test(q)));
      return yes;
    });
    if (queues.length === 0) return 0;
    const n = await backend.broadcast(body, round < BROADCAST_ROUNDS ? { queues, listed } : { queues });
    if (n >= 0) return n;
  }
}
