/**
 * Native wake-ups that also end when a held message becomes due
 * (docs/leases.md#postgresql, docs/leases.md#redis): nobody returns a due
 * message to its queue before a reader looks, so a watcher waiting for a
 * notification is woken at the earliest due time of its queues instead.
 * @module
 */

/**
 * Wait like `wait(timeoutMs, signal)`, but resolve true once `untilDue()`
 * milliseconds have passed when that is sooner. `untilDue` returns the due
 * messages of the queues first (which notifies their waiters) and then the
 * time until the next one is due, or undefined when nothing is held; its
 * failure only leaves the plain wait.
 */
export async function waitWithDue(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  wait: (timeoutMs: number, signal: AbortSignal) => Promise<boolean>,
  untilDue: () => Promise<number | undefined>,
): Promise<boolean> {
  if (signal?.aborted) return false;
  const due = new AbortController();
  const inner = wait(timeoutMs, signal ? AbortSignal.any([signal, due.signal]) : due.signal);
  inner.catch(() => {}); // awaited below; a failure while untilDue runs must not be an unhandled rejection (it ends the process)
  const ms = await untilDue().catch(() => undefined);
  if (ms === undefined || ms >= timeoutMs) return inner;
  const timer = setTimeout(() => due.abort(), Math.max(0, ms));
  try {
    return (await inner) || (due.signal.aborted && !signal?.aborted);
  } finally {
    clearTimeout(timer);
  }
}
