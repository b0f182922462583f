/**
 * What SQLite stores of this process share: wake-ups (a write, move or
 * broadcast through any connection of this process tells this process's
 * watchers of that file at once), the offers of idle watchers for direct
 * hand-over (see {@link IdleConsumer}), and inotify on the `-wal` file for
 * commits by other processes. Keyed by the database path.
 * @module
 */
import type { FSWatcher } from "node:fs";
import { fs } from "../../util/fs-lazy.ts";
import { basename, dirname } from "../../util/path.ts";
import type { IdleConsumer, Message } from "../../core/types.ts";

type Listener = (queue: string) => void;
const listeners = new Map<string, Set<Listener>>();
const idleConsumers = new Map<string, IdleConsumer[]>();
const NONE: IdleConsumer[] = [];
const idleKey = (store: string, queue: string) => `${store}\0${queue}`;

/** Tell this process's listeners on `store` that `queue` changed (`*` = any queue). */
export function notifyActivity(store: string, queue: string): void {
  const set = listeners.get(store);
  if (set) for (const fn of set) fn(queue);
}

/** Listen for activity on `store`: in-process notifications, and `*` when its `-wal` file changes. Returns the stop function. */
export function onStoreActivity(store: string, fn: Listener): () => void {
  let set = listeners.get(store);
  if (!set) listeners.set(store, (set = new Set()));
  set.add(fn);
  const unwatch = watchWal(store, () => fn("*"));
  return () => {
    unwatch();
    set.delete(fn);
    if (set.size === 0) listeners.delete(store);
  };
}

/** Offer `consumer` for hand-overs on `queue` of `store` until the returned function is called or it accepts one. */
export function offerIdleConsumer(store: string, queue: string, consumer: IdleConsumer): () => void {
  const key = idleKey(store, queue);
  let list = idleConsumers.get(key);
  if (!list) idleConsumers.set(key, (list = []));
  list.push(consumer);
  return () => withdraw(key, consumer);
}

/** The consumers waiting on `queue` of `store` that may take a message with id `ts`, oldest offer first. */
export function idleConsumersFor(store: string, queue: string, ts: bigint): IdleConsumer[] {
  if (idleConsumers.size === 0) return NONE;
  const list = idleConsumers.get(idleKey(store, queue));
  if (!list) return NONE;
  const out: IdleConsumer[] = [];
  for (const c of list) if (c.after === undefined || ts > c.after) out.push(c);
  return out;
}

/** Hand a committed message to `consumer` (claimed for it when it claims), which stops being offered. */
export function handOver(store: string, queue: string, consumer: IdleConsumer, message: Message): void {
  withdraw(idleKey(store, queue), consumer);
  consumer.accept(message);
}

// --- internal ---

function withdraw(key: string, consumer: IdleConsumer): void {
  const list = idleConsumers.get(key);
  if (!list) return;
  const i = list.indexOf(consumer);
  if (i !== -1) list.splice(i, 1);
  if (list.length === 0) idleConsumers.delete(key);
}

/** inotify on the database's folder, filtered to its -wal file: another process committed. */
function watchWal(dbPath: string, onChange: () => void): () => void {
  const wal = `${basename(dbPath)}-wal`;
  let watcher: FSWatcher | undefined;
  try {
    watcher = fs().watch(dirname(dbPath), { persistent: false }, (_event, file) => {
      if (file === wal) onChange();
    });
    watcher.on("error", () => {});
  } catch {
    return () => {};
  }
  return () => watcher?.close();
}
