/**
 * SQLite stores shared by the persistent `Queue` handles of one process: one
 * connection per database and settings, counted, closed with the last
 * handle; and the auto-vacuum check those handles run after writes.
 * @module
 */
import { SqliteStore } from "../backends/sqlite/store.ts";
import { asBackendError } from "../backends/sqlite/schema.ts";
import type { BrokerConfig } from "../core/types.ts";

const sharedStores = new Map<string, { store: SqliteStore; refs: number }>();

/** The shared store of `path` with these settings (opened on first use); pair with {@link releaseStore}. */
export function acquireStore(path: string, config: BrokerConfig): SqliteStore {
  const key = storeKey(path, config);
  let entry = sharedStores.get(key);
  if (!entry) sharedStores.set(key, (entry = { store: new SqliteStore(path, config), refs: 0 }));
  entry.refs++;
  return entry.store;
}

/** Give back a store from {@link acquireStore}; the last release closes it. */
export function releaseStore(store: SqliteStore): void {
  const key = storeKey(store.path, store.config);
  const entry = sharedStores.get(key);
  if (!entry || entry.store !== store) return;
  if (--entry.refs <= 0) {
    sharedStores.delete(key);
    store.close();
  }
}

/**
 * Auto-vacuum of a persistent handle: every `BROKER_AUTO_VACUUM_INTERVAL`
 * writes, vacuum when claimed rows reach `BROKER_VACUUM_THRESHOLD` of all
 * rows (or pass 10,000). The test is monotonic in the claimed count, so an
 * index-only upper bound rules most checks out without the full count.
 */
export class AutoVacuum {
  readonly #config: BrokerConfig;
  #writes = 0;

  constructor(config: BrokerConfig) {
    this.#config = config;
  }

  /** Count `n` writes to `store`; check (and vacuum) when the interval is reached. */
  afterWrites(store: SqliteStore, n: number): void {
    const config = this.#config;
    if (!config.autoVacuum) return;
    this.#writes += n;
    if (this.#writes < config.autoVacuumInterval) return;
    this.#writes = 0;
    const needed = (claimed: number, total: number) =>
      total > 0 && (claimed >= total * config.vacuumThreshold || claimed > 10_000);
    const bound = store.claimedUpperBound();
    if (!needed(bound.claimedAtMost, bound.total)) return;
    const { claimed, total } = store.overallStats();
    if (needed(claimed, total)) store.vacuum(false);
  }
}

// --- internal ---

function storeKey(path: string, config: BrokerConfig): string {
  return `${path}\0${config.busyTimeout}\0${config.syncMode}\0${config.cacheMb}\0${config.walAutocheckpoint}`;
}

/**
 * The stores of one `Queue` handle: a new connection for each call, or with
 * `persistent` the process's shared store of the database (acquired on
 * first use, given back by {@link close}).
 */
export class QueueStores {
  readonly #path: string;
  readonly #config: BrokerConfig;
  readonly #persistent: boolean;
  #shared: SqliteStore | undefined;

  constructor(path: string, config: BrokerConfig, persistent: boolean) {
    this.#path = path;
    this.#config = config;
    this.#persistent = persistent;
  }

  /** The shared store, once a persistent handle used it. */
  get shared(): SqliteStore | undefined {
    return this.#shared;
  }

  /** Run `fn` on a store; store errors come out as BackendErrors. */
  use<T>(fn: (store: SqliteStore) => T): T {
    try {
      if (this.#persistent) return fn(this.walkStore());
      const store = new SqliteStore(this.#path, this.#config);
      try {
        return fn(store);
      } finally {
        store.close();
      }
    } catch (error) {
      throw asBackendError(error);
    }
  }

  /** A store that stays open for a whole walk: the shared one, or a new connection that {@link endWalk} closes. */
  walkStore(): SqliteStore {
    if (this.#persistent) return (this.#shared ??= acquireStore(this.#path, this.#config));
    return new SqliteStore(this.#path, this.#config);
  }

  endWalk(store: SqliteStore): void {
    if (!this.#persistent) store.close();
  }

  close(): void {
    if (this.#shared) releaseStore(this.#shared);
    this.#shared = undefined;
  }
}
