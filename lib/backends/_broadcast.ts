/**
 * Which queues a broadcast writes to, decided inside its transaction from the
 * queue names present then and the caller's choice (see `BroadcastTargets`):
 * set lookups only, never a pattern match.
 * @module
 */
import type { BroadcastTargets } from "../core/types.ts";

/**
 * `present` (sorted names of the queues with rows) when no targets were given;
 * else the targets that are present, in their order; null when a present
 * queue is outside `targets.listed` (the caller chooses again).
 */
export function broadcastQueues(present: readonly string[], targets: BroadcastTargets | undefined): string[] | null {
  if (!targets) return [...present];
  if (targets.listed) {
    const listed = new Set(targets.listed);
    if (present.some((q) => !listed.has(q))) return null;
  }
  const have = new Set(present);
  return targets.queues.filter((q) => have.has(q));
}
