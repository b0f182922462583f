/**
 * The SQLite backend: {@link SqliteStore}'s synchronous operations behind the
 * async {@link Backend} contract. `store` stays reachable for the sync
 * `Queue` fast path.
 * @module
 */
import type { Database } from "bun:sqlite";
import { waitForLocalActivity } from "../../activity.ts";
import type { Backend, BrokerConfig } from "../../types.ts";
import { asBackendError } from "./schema.ts";
import { SqliteStore } from "./store.ts";

export { SqliteStore } from "./store.ts";

/** The SQLite implementation of {@link Backend}, with its synchronous store. */
export interface SqliteBackend extends Backend {
  readonly store: SqliteStore;
}

/**
 * Create a SQLite backend for the database file at `path`, opened lazily, or
 * on `db` when the caller already opened and validated it (the backend then
 * owns and closes it).
 */
export function createSqliteBackend(path: string, config: BrokerConfig, db?: Database): SqliteBackend {
  const store = new SqliteStore(path, config, db);
  const backend: SqliteBackend = {
    name: "sqlite",
    displayTarget: path,
    store,
    init: async () => void store.db,
    close: async () => store.close(),
    write: async (queue, bodies) => store.write(queue, bodies),
    claim: async (queue, sel) => store.claim(queue, sel),
    peek: async (queue, sel) => store.peek(queue, sel),
    move: async (source, target, sel) => store.move(source, target, sel),
    reserve: async (queue, sel, moveTo) => {
      const r = store.reserve(queue, sel, moveTo);
      return { messages: r.messages, commit: async () => r.commit(), rollback: async () => r.rollback() };
    },
    deleteQueue: async (queue) => store.deleteQueue(queue),
    broadcast: async (body, pattern) => store.broadcast(body, pattern),
    listStats: async (filter) => store.listStats(filter),
    queueStats: async (queue) => store.queueStats(queue),
    hasPending: async (queue, after) => store.hasPending(queue, after),
    status: async () => store.status(),
    generateTimestamp: async () => store.generateTimestamp(),
    lastTimestamp: async () => store.lastTimestamp(),
    listAliases: async () => store.listAliases(),
    resolveAlias: async (alias) => store.resolveAlias(alias),
    addAlias: async (alias, target) => store.addAlias(alias, target),
    removeAlias: async (alias) => store.removeAlias(alias),
    vacuum: async (compact) => store.vacuum(compact),
    cleanup: async () => store.cleanup(),
    dataVersion: async () => store.dataVersion(),
    // In-process wake-ups only; watchers add PRAGMA data_version polling for other processes.
    waitForActivity: (queues, timeoutMs, signal) => waitForLocalActivity(path, queues, timeoutMs, signal),
  };
  // Raw SQLite failures (corrupt file, disk full, read-only) surface as BackendError.
  const methods = backend as unknown as Record<string, unknown>;
  for (const [key, fn] of Object.entries(methods)) {
    if (typeof fn !== "function" || key === "waitForActivity") continue;
    methods[key] = async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => unknown)(...args);
      } catch (error) {
        throw asBackendError(error);
      }
    };
  }
  return backend;
}
