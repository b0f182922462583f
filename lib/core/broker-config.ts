/**
 * The resolved configuration: every `BROKER_*` setting, typed. Built by
 * `resolveConfig()` (lib/target/config.ts); re-exported by `types.ts`.
 * @module
 */

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
  /** Seconds a network backend may take to connect and answer its first command (`BROKER_BACKEND_CONNECT_TIMEOUT`, 5). */
  backendConnectTimeout: number;
}
