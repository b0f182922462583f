/**
 * The SQLite backend: {@link SqliteStore}'s synchronous operations behind the
 * async {@link Backend} contract. `store` stays reachable for the sync
 * `Queue` fast path.
 * @module
 */
import type { Database } from "bun:sqlite";
import type { Backend, BrokerConfig, LeaseCapabilities } from "../../core/types.ts";
import { asBackendError } from "./schema.ts";
import { offerIdleConsumer, onStoreActivity } from "./local.ts";
import { SqliteStore } from "./store.ts";
import { loadIntoSqlite } from "./_load.ts";

export { SqliteStore } from "./store.ts";

/** The SQLite implementation of {@link Backend}, with its synchronous store. */
export type SqliteBackend = Backend &
  Required<
    Pick<Backend, "rename" | "reserve" | "vacuum" | "cleanup" | "dataVersion" | "onActivity" | "offerIdle" | "localFile">
  > &
  Required<LeaseCapabilities> & {
    readonly store: SqliteStore;
  };

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
    localFile: path,
    store,
    init: () => settle(() => void store.db),
    close: () => settle(() => store.close()),
    write: (queue, bodies) => settle(() => store.write(queue, bodies)),
    claim: (queue, sel) => settle(() => store.claim(queue, sel)),
    peek: (queue, sel) => settle(() => store.peek(queue, sel)),
    move: (source, target, sel) => settle(() => store.move(source, target, sel)),
    reserve: (queue, sel, moveTo) =>
      settle(() => {
        const r = store.reserve(queue, sel, moveTo);
        return { messages: r.messages, commit: () => settle(() => r.commit()), rollback: () => settle(() => r.rollback()) };
      }),
    deleteQueue: (queue) => settle(() => store.deleteQueue(queue)),
    broadcast: (body, targets) => settle(() => store.broadcast(body, targets)),
    listStats: (filter) => settle(() => store.listStats(filter)),
    queueStats: (queue) => settle(() => store.queueStats(queue)),
    hasPending: (queue, after) => settle(() => store.hasPending(queue, after)),
    status: () => settle(() => store.status()),
    generateTimestamp: () => settle(() => store.generateTimestamp()),
    lastTimestamp: () => settle(() => store.lastTimestamp()),
    listAliases: () => settle(() => store.listAliases()),
    resolveAlias: (alias) => settle(() => store.resolveAlias(alias)),
    addAlias: (alias, target) => settle(() => store.addAlias(alias, target)),
    removeAlias: (alias) => settle(() => store.removeAlias(alias)),
    rename: (source, target, retarget) => settle(() => store.rename(source, target, retarget)),
    vacuum: (compact) => store.vacuumAsync(compact).catch((error) => Promise.reject(asBackendError(error))),
    cleanup: () => settle(() => store.cleanup()),
    load: (input) => loadIntoSqlite(store, input).catch((error) => Promise.reject(asBackendError(error))),
    dataVersion: () => settle(() => store.dataVersion()),
    // Hints only (in-process writes, -wal changes): watchers keep polling data_version for other processes.
    onActivity: (listener) => onStoreActivity(path, listener),
    offerIdle: (queue, consumer) => offerIdleConsumer(path, queue, consumer),
    // Leases and delays (docs/leases.md#sqlite).
    lease: (queue, selection) => settle(() => store.lease(queue, selection)),
    ack: (queue, ids, token) => settle(() => store.ack(queue, ids, token)),
    release: (queue, ids, options) => settle(() => store.release(queue, ids, options)),
    extend: (queue, id, leaseMs, token) => settle(() => store.extend(queue, id, leaseMs, token)),
    deadLetter: (queue, ids, target, token) => settle(() => store.deadLetter(queue, ids, target, token)),
    writeDelayed: (queue, bodies, due) => settle(() => store.writeDelayed(queue, bodies, due)),
    promoteDue: (queue) => settle(() => store.promoteDue(queue)),
    heldStats: (queue) => settle(() => store.heldStats(queue)),
    peekHeld: (queue, options) => settle(() => store.peekHeld(queue, options)),
  };
  return backend;
}

/**
 * A synchronous store call as the promise the {@link Backend} contract returns;
 * a raw SQLite failure (corrupt file, disk full, read-only) rejects as a BackendError.
 */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(asBackendError(error));
  }
}
