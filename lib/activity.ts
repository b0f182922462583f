/**
 * In-process wake-ups: a write, move or broadcast in this process wakes this
 * process's watchers of that store at once, without waiting for a poll.
 * @module
 */

type Listener = (queue: string) => void;
const listeners = new Map<string, Set<Listener>>();

/** Tell this process's watchers of `store` that `queue` changed (`*` = any queue). */
export function notifyActivity(store: string, queue: string): void {
  const set = listeners.get(store);
  if (set) for (const fn of set) fn(queue);
}

/** Listen for activity on `store`; returns the function that stops listening. */
export function onActivity(store: string, fn: Listener): () => void {
  let set = listeners.get(store);
  if (!set) listeners.set(store, (set = new Set()));
  set.add(fn);
  return () => {
    set.delete(fn);
    if (set.size === 0) listeners.delete(store);
  };
}

/**
 * Resolve true when activity on one of `queues` of `store` is notified, or
 * false after `timeoutMs` or when `signal` aborts.
 */
export function waitForLocalActivity(
  store: string,
  queues: string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const wanted = new Set(queues);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (value: boolean) => {
      off();
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(value);
    };
    const onAbort = () => finish(false);
    const off = onActivity(store, (queue) => {
      if (queue === "*" || wanted.has(queue)) finish(true);
    });
    timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
