/**
 * The default outage report: one "lost" line and one "reconnected" line per
 * outage of a target in this process, however many watchers and workers
 * wait on it (docs/outages.md#what-you-see). Each guard that is down on a
 * target joins the outage; the first to join prints the "lost" line, the
 * last to leave by reconnecting prints the "reconnected" line, timed from
 * the first.
 * @module
 */

/** Outages being reported on stderr, by target: the guards still down and when the first went down. */
const outages = new Map<string, { guards: Set<object>; since: number }>();

/** `guard` lost its connection to `target`. */
export function outageLost(guard: object, target: string): void {
  const outage = outages.get(target);
  if (outage) {
    outage.guards.add(guard);
    return;
  }
  outages.set(target, { guards: new Set([guard]), since: performance.now() });
  console.error(`simplebroker: warning: lost connection to ${target}; retrying`);
}

/** `guard` reaches `target` again. */
export function outageRestored(guard: object, target: string): void {
  const outage = outages.get(target);
  if (!outage?.guards.delete(guard) || outage.guards.size > 0) return;
  outages.delete(target);
  console.error(`simplebroker: reconnected to ${target} after ${((performance.now() - outage.since) / 1000).toFixed(1)} s`);
}

/**
 * `guard` stopped waiting (its watch ended or gave up) while down: it leaves
 * the outage without a line; the outage ends silently when nobody waits on it.
 */
export function outageLeft(guard: object, target: string): void {
  const outage = outages.get(target);
  if (!outage?.guards.delete(guard) || outage.guards.size > 0) return;
  outages.delete(target);
}
