/**
 * Shared types: messages, selections, statistics, configuration and the
 * {@link Backend} contract every storage engine implements.
 * @module
 */

/** A message id: the 64-bit hybrid timestamp (docs/on-disk-format.md#message-ids), always a bigint. */
export type MessageId = bigint;

/** One message as stored: its body and its id (`ts`). */
export interface Message {
  body: string;
  ts: bigint;
}

/** Which rows an operation selects. Only unclaimed rows unless stated. */
export interface Selection {
  /** At most this many rows (default 1). */
  limit?: number;
  /** Skip this many rows (peek pages only). */
  offset?: number;
  /** Only rows with `ts > after` (strict). */
  after?: bigint;
  /** Only rows with `ts < before` (strict). */
  before?: bigint;
  /** Exactly the row with this id. */
  exactId?: bigint;
  /** For moves by exact id: false lets a claimed row be moved (revived). Default true. */
  requireUnclaimed?: boolean;
}

/** Counts for one queue. A queue exists while it has at least one row. */
export interface QueueStats {
  queue: string;
  pending: number;
  claimed: number;
  total: number;
  exists: boolean;
}

/** What `--status` reports. */
export interface BrokerStatus {
  totalMessages: number;
  lastTimestamp: bigint;
  /** Size in bytes of the main store (SQLite: the file without -wal). */
  dbSize: number;
}

/** A batch claimed or moved inside an open transaction (at-least-once delivery). */
export interface Reservation {
  readonly messages: Message[];
  /** Make the claim/move permanent. */
  commit(): Promise<void>;
  /** Put every message of the batch back as it was. */
  rollback(): Promise<void>;
}

/** Result of a vacuum pass. */
export interface VacuumResult {
  /** Claimed rows physically removed. */
  vacuumed: number;
  /** False when another process held the vacuum lock and nothing was done. */
  ran: boolean;
}

/**
 * The storage contract. SQLite, PostgreSQL and Redis implement it; the queue
 * core, the CLI and the watchers only ever talk to this interface.
 * Every method may throw a {@link import("./errors.ts").BrokerError}.
 */
export interface Backend {
  /** Backend name: `sqlite`, `postgres` or `redis`. */
  readonly name: string;
  /** The target as shown to users (passwords redacted). */
  readonly displayTarget: string;
  /** Create or verify the schema / namespace. Idempotent. */
  init(): Promise<void>;
  /** Release connections. Idempotent. */
  close(): Promise<void>;

  /** Append messages to a queue in one transaction; returns their new ids in order. */
  write(queue: string, bodies: string[]): Promise<bigint[]>;
  /** Claim (read) up to `limit` oldest matching pending messages, committed before returning. */
  claim(queue: string, selection: Selection): Promise<Message[]>;
  /** Return matching pending messages without changing them. */
  peek(queue: string, selection: Selection): Promise<Message[]>;
  /** Move matching messages to `target` (pending there), committed before returning. */
  move(source: string, target: string, selection: Selection): Promise<Message[]>;
  /** Claim or move a batch but keep it revocable until commit/rollback (at-least-once). */
  reserve(queue: string, selection: Selection, moveTo?: string): Promise<Reservation>;
  /** Physically delete every row of one queue, or of all queues when `queue` is undefined. */
  deleteQueue(queue?: string): Promise<number>;
  /** Write `body` once to every queue that has rows (optionally matching an fnmatch pattern). */
  broadcast(body: string, pattern?: string): Promise<number>;

  /** Stats of every queue with at least one row, sorted by name. */
  listStats(filter?: { prefix?: string; pattern?: string }): Promise<QueueStats[]>;
  /** Stats of one queue (zeros when it does not exist). */
  queueStats(queue: string): Promise<QueueStats>;
  /** Whether the queue has a pending message (with `ts > after`). */
  hasPending(queue: string, after?: bigint): Promise<boolean>;
  /** Totals over the whole store. */
  status(): Promise<BrokerStatus>;

  /** Allocate a fresh id without writing a message. */
  generateTimestamp(): Promise<bigint>;
  /** The highest id ever allocated (`meta.last_ts`). */
  lastTimestamp(): Promise<bigint>;

  /** Aliases sorted by alias name. */
  listAliases(): Promise<Array<[alias: string, target: string]>>;
  /** Target of an alias, or undefined. */
  resolveAlias(alias: string): Promise<string | undefined>;
  /** Add an alias (validates existing / alias-of-alias / cycles inside one transaction). */
  addAlias(alias: string, target: string): Promise<void>;
  /** Remove an alias; false when it did not exist. */
  removeAlias(alias: string): Promise<boolean>;

  /** Delete claimed rows; `compact` also reclaims space. */
  vacuum(compact?: boolean): Promise<VacuumResult>;
  /** Remove the store itself (file, schema or namespace). False when nothing existed. */
  cleanup?(): Promise<boolean>;

  /**
   * Optional: resolve when something may have changed for these queues, or
   * after `timeoutMs`. A hint only; callers re-check. Without it, callers poll.
   */
  waitForActivity?(queues: string[], timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Optional: a counter that changes whenever another connection commits (SQLite data_version). */
  dataVersion?(): Promise<bigint>;
}

/** Synchronous SQLite fast path: used by {@link import("../queue/queue.ts").Queue}. */
export type SyncBackend = {
  [K in keyof Omit<Backend, "name" | "displayTarget" | "waitForActivity" | "reserve">]-?: Backend[K] extends (
    ...args: infer A
  ) => Promise<infer R>
    ? (...args: A) => R
    : never;
} & { readonly name: string; readonly displayTarget: string };

/** Journal synchronisation mode (`BROKER_SYNC_MODE`). */
export type SyncMode = "FULL" | "NORMAL" | "OFF";

/**
 * The resolved configuration (docs/compatibility.md#environment-variables). Built by `resolveConfig()` from
 * `BROKER_*` environment variables and overrides; frozen.
 */
export interface BrokerConfig {
  /** SQLite busy timeout in ms (`BROKER_BUSY_TIMEOUT`, 5000). */
  busyTimeout: number;
  /** SQLite page cache in MiB (`BROKER_CACHE_MB`, 10). */
  cacheMb: number;
  /** `PRAGMA synchronous` (`BROKER_SYNC_MODE`, FULL). */
  syncMode: SyncMode;
  /** WAL auto-checkpoint pages (`BROKER_WAL_AUTOCHECKPOINT`, 1000; 0 disables). */
  walAutocheckpoint: number;
  /** Max UTF-8 bytes of one message (`BROKER_MAX_MESSAGE_SIZE`, 10485760). */
  maxMessageSize: number;
  /** `BROKER_READ_COMMIT_INTERVAL` (1): parsed for compatibility, unused as in 3.6.1. */
  readCommitInterval: number;
  /** At-least-once generator batch size (`BROKER_GENERATOR_BATCH_SIZE`, 100). */
  generatorBatchSize: number;
  /** Auto vacuum on long-lived handles (`BROKER_AUTO_VACUUM`, true). */
  autoVacuum: boolean;
  /** Writes between auto-vacuum checks (`BROKER_AUTO_VACUUM_INTERVAL`, 100). */
  autoVacuumInterval: number;
  /** Claimed fraction that triggers auto vacuum (`BROKER_VACUUM_THRESHOLD` percent, 0.10). */
  vacuumThreshold: number;
  /** Rows deleted per vacuum transaction (`BROKER_VACUUM_BATCH_SIZE`, 1000). */
  vacuumBatchSize: number;
  /** Seconds after which a vacuum lock file is stale (`BROKER_VACUUM_LOCK_TIMEOUT`, 300). */
  vacuumLockTimeout: number;
  /** Skip the watcher's pending pre-check (`BROKER_SKIP_IDLE_CHECK`, false). */
  skipIdleCheck: boolean;
  /** Watcher backoff jitter (`BROKER_JITTER_FACTOR`, 0.15). */
  jitterFactor: number;
  /** Zero-delay checks after activity (`BROKER_INITIAL_CHECKS`, 100). */
  initialChecks: number;
  /** Max poll interval in seconds (`BROKER_MAX_INTERVAL`, 0.1). */
  maxInterval: number;
  /** Sleep between burst checks in seconds (`BROKER_BURST_SLEEP`, 0.00001). */
  burstSleep: number;
  /** Extra warnings (`BROKER_DEBUG`). */
  debug: boolean;
  /** Internal logging (`BROKER_LOGGING_ENABLED`). */
  loggingEnabled: boolean;
  /** Default directory, absolute, or "" for the cwd (`BROKER_DEFAULT_DB_LOCATION`). */
  defaultDbLocation: string;
  /** Database file name, may be `dir/name.db` (`BROKER_DEFAULT_DB_NAME`, `.broker.db`). */
  defaultDbName: string;
  /** Directory prefix of the project config (`BROKER_PROJECT_CONFIG_PATH`, ""). */
  projectConfigPath: string;
  /** Project config file name (`BROKER_PROJECT_CONFIG_NAME`, `.broker.toml`). */
  projectConfigName: string;
  /** Upward project discovery (`BROKER_PROJECT_SCOPE`, false). */
  projectScope: boolean;
  /** Backend name (`BROKER_BACKEND`, `sqlite`). */
  backend: string;
  backendHost: string;
  backendPort: number;
  backendUser: string;
  backendPassword: string;
  backendDatabase: string;
  /** Postgres schema (`BROKER_BACKEND_SCHEMA`, `simplebroker_pg_v1`). */
  backendSchema: string;
  /** Full DSN; wins over the parts (`BROKER_BACKEND_TARGET`). */
  backendTarget: string;
}

/** Where a broker lives: which backend and which file / URL. */
export interface BrokerTarget {
  /** `sqlite`, `postgres` or `redis`. */
  backendName: string;
  /** SQLite: absolute file path. Others: connection URL. */
  target: string;
  /** Backend options, e.g. `{ schema }` for postgres, `{ namespace }` for redis. */
  backendOptions: Record<string, unknown>;
  /** Project root when found by discovery or a config file, else null. */
  projectRoot: string | null;
  /** The `.broker.toml` used, else null. */
  configPath: string | null;
  /** True when found by project-scope discovery. */
  usedProjectScope: boolean;
  /** True for a plain `-d`/`-f` SQLite path (CLI path checks apply). */
  legacySqlitePathMode: boolean;
}
