/**
 * Opening a SimpleBroker SQLite file: header checks, WAL and auto_vacuum on a
 * new file, the schema v4 of SPEC §1.2 (idempotent, compatible with Python
 * 3.6.1's `IF NOT EXISTS` statements), migrations v1→v4, magic and version
 * checks, and the per-connection PRAGMAs of §1.5.
 * @module
 */
import { Database, SQLiteError } from "bun:sqlite";
import { fs } from "../../util/fs-lazy.ts";
import { dirname } from "../../util/posix-path.ts";
import { BackendError } from "../../core/errors.ts";
import type { BrokerConfig } from "../../core/types.ts";

/** The schema version we write; never higher (Python 3.6.1 refuses > 4). */
export const SCHEMA_VERSION = 4n;
/** `meta.magic` of every SimpleBroker database. */
export const MAGIC = "simplebroker-v1";
const SQLITE_HEADER = "SQLite format 3\0";

const SCHEMA_STATEMENTS = [
  `CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    ts INTEGER NOT NULL UNIQUE,
    claimed INTEGER DEFAULT 0
)`,
  "DROP INDEX IF EXISTS idx_messages_queue_ts",
  "DROP INDEX IF EXISTS idx_queue_id",
  "DROP INDEX IF EXISTS idx_queue_ts",
  "CREATE INDEX IF NOT EXISTS idx_messages_queue_ts_id\nON messages(queue, ts, id)\n",
  "CREATE TABLE IF NOT EXISTS meta (\n    key TEXT PRIMARY KEY,\n    value INTEGER NOT NULL\n)",
  "INSERT OR IGNORE INTO meta (key, value) VALUES ('last_ts', 0)",
];
const UNCLAIMED_INDEX = "CREATE INDEX IF NOT EXISTS idx_messages_unclaimed\nON messages(queue, claimed, id)\nWHERE claimed = 0\n";
const TS_UNIQUE_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS idx_messages_ts_unique\nON messages(ts)\n";
const ALIAS_STATEMENTS = [
  "CREATE TABLE IF NOT EXISTS queue_aliases (\n    alias TEXT PRIMARY KEY,\n    target TEXT NOT NULL\n)",
  "CREATE INDEX IF NOT EXISTS idx_queue_aliases_target ON queue_aliases(target)\n",
  "INSERT OR IGNORE INTO meta (key, value) VALUES ('alias_version', 0)",
];

/** Files whose schema this process has already verified (schema set up once per file per process). */
const verified = new Set<string>();

/**
 * Open a connection to a SimpleBroker database, creating and setting it up
 * when needed. Throws {@link BackendError} for a file that is not SQLite, has
 * the wrong magic, or a newer schema; never modifies such a file.
 */
export function openDatabase(path: string, config: BrokerConfig): Database {
  return openCurrentDatabase(path, config)?.db ?? openAndSetUp(path, config);
}

/** A connection from {@link openCurrentDatabase}, with the canonical path of its file when it was looked up. */
export interface OpenedDatabase {
  db: Database;
  /** The file SQLite opened, every symlink resolved (`PRAGMA database_list`); undefined when not looked up. */
  file: string | undefined;
}

/**
 * The fast open of an existing, current database: one SQLite open without
 * create, the connection PRAGMAs and one query that confirms schema v4 and
 * WAL mode and says which file SQLite opened. Returns undefined for anything
 * else (missing file, directory, not SQLite, older schema, rollback journal,
 * wrong magic): {@link openDatabase}'s full path then sets the file up or
 * reports the precise error. Never creates or changes a file, and needs no
 * `node:fs`. A file already verified by this process skips the query.
 */
export function openCurrentDatabase(path: string, config: BrokerConfig): OpenedDatabase | undefined {
  let db: Database;
  try {
    db = new Database(path, { readwrite: true, create: false, safeIntegers: true, strict: true });
  } catch {
    return undefined;
  }
  try {
    applyConnectionPragmas(db, config);
    if (verified.has(path)) return { db, file: undefined };
    const row = db.query(CURRENT_SCHEMA_WAL_FILE_SQL).get() as SchemaRow & { journal: string; file: string };
    if (!isCurrentRow(row) || String(row.journal).toLowerCase() !== "wal") {
      db.close();
      return undefined;
    }
    verified.add(path);
    return { db, file: row.file || undefined };
  } catch {
    db.close();
    return undefined;
  }
}

/** The canonical path SQLite opened for `db` (every symlink resolved), or undefined for an in-memory database. */
export function openedFilePath(db: Database): string | undefined {
  const row = db.query("PRAGMA database_list").get() as { file?: string } | null;
  return row?.file || undefined;
}

function openAndSetUp(path: string, config: BrokerConfig): Database {
  const existed = fs().existsSync(path);
  const walHeader = existed && checkHeader(path);
  if (!existed) {
    try {
      fs().mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw new BackendError(`Cannot create the database folder ${dirname(path)}: ${(error as { code?: string }).code ?? messageOf(error)}`, { cause: error });
    }
  }
  let db: Database;
  try {
    db = new Database(path, { create: true, readwrite: true, safeIntegers: true, strict: true });
  } catch (error) {
    throw new BackendError(`Failed to get database connection: ${messageOf(error)}`, { cause: error });
  }
  try {
    if (!existed) {
      try {
        fs().chmodSync(path, 0o600);
      } catch {
        // a warning only in 3.6.1; the database stays usable
      }
    }
    applyConnectionPragmas(db, config);
    if (!verified.has(path)) {
      if (!(walHeader && isCurrentSchema(db))) withBusyRetry(() => setUp(db, path), 10_000);
      verified.add(path);
    }
    return db;
  } catch (error) {
    db.close();
    if (error instanceof BackendError) throw error;
    throw new BackendError(`Database error: ${messageOf(error)}`, { cause: error });
  }
}

/** The per-connection settings of SPEC §1.5 in one call; busy_timeout first, so set-up can wait. */
function applyConnectionPragmas(db: Database, config: BrokerConfig): void {
  db.run(
    `PRAGMA busy_timeout = ${Math.max(0, Math.trunc(config.busyTimeout))}; ` +
      `PRAGMA wal_autocheckpoint = ${config.walAutocheckpoint}; ` +
      `PRAGMA cache_size = ${-Math.trunc(config.cacheMb * 1024)}; ` +
      `PRAGMA synchronous = ${config.syncMode}`,
  );
}

/** Forget that a file was verified (after it was deleted, so it is set up again). */
export function forgetVerified(path: string): void {
  verified.delete(path);
}

/** True for SQLite's lock/busy errors, which are worth retrying. */
export function isBusyError(error: unknown): boolean {
  const text = messageOf(error).toLowerCase();
  return (
    text.includes("database is locked") ||
    text.includes("database table is locked") ||
    text.includes("database schema is locked") ||
    text.includes("database is busy") ||
    text.includes("database busy") ||
    (error as { code?: string })?.code?.startsWith?.("SQLITE_BUSY") === true
  );
}

/** A raw SQLite failure (corrupt file, disk full, read-only, locked) as a {@link BackendError}; other errors unchanged. */
export function asBackendError(error: unknown): unknown {
  if (!(error instanceof SQLiteError)) return error;
  return new BackendError(`Database error: ${error.message}`, { cause: error, retryable: isBusyError(error) });
}

/** Run `fn`, retrying lock/busy errors with exponential backoff for up to `budgetMs`. */
export function withBusyRetry<T>(fn: () => T, budgetMs = 30_000): T {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (error) {
      const left = deadline - Date.now();
      if (!isBusyError(error) || left <= 0 || attempt >= 9) throw error;
      Bun.sleepSync(Math.min(0.05 * 2 ** attempt * 1000, 2000, left) + Math.random() * 25);
    }
  }
}

/** The message of an error, or the value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// --- internal ---

/** Check the SQLite header of an existing file; true when it is in WAL mode (header bytes 18-19 = 2). */
function checkHeader(path: string): boolean {
  let size: number;
  try {
    const st = fs().statSync(path);
    if (!st.isFile()) throw new BackendError(`Path exists but is not a regular file: ${path}`);
    size = st.size;
  } catch (error) {
    if (error instanceof BackendError) throw error;
    throw new BackendError(`Cannot read database file: ${path} (${messageOf(error)})`, { cause: error });
  }
  if (size === 0) return false;
  const buf = Buffer.alloc(20);
  let fd: number | undefined;
  try {
    fd = fs().openSync(path, "r");
    fs().readSync(fd, buf, 0, 20, 0);
  } catch (error) {
    throw new BackendError(`Cannot read database file: ${path} (${messageOf(error)})`, { cause: error });
  } finally {
    if (fd !== undefined) fs().closeSync(fd);
  }
  if (size < 16 || buf.toString("latin1", 0, 16) !== SQLITE_HEADER) {
    throw new BackendError(`File at ${path} exists but is not a valid SQLite database`);
  }
  return buf[18] === 2 && buf[19] === 2;
}

/**
 * The fast path of an existing file: one query confirms the complete schema
 * v4 (tables, indexes, magic, version). Anything else, including a missing
 * `meta` table, goes through the full {@link setUp}, which also reports errors.
 */
function isCurrentSchema(db: Database): boolean {
  try {
    return isCurrentRow(db.query(CURRENT_SCHEMA_SQL).get() as SchemaRow);
  } catch {
    return false;
  }
}

/** Counts of our tables and indexes, the magic and the schema version, in one row. */
const CURRENT_SCHEMA_SQL = `SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('messages', 'meta', 'queue_aliases')) AS tables,
                (SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('idx_messages_queue_ts_id', 'idx_messages_unclaimed', 'idx_messages_ts_unique', 'idx_queue_aliases_target')) AS indexes,
                (SELECT value FROM meta WHERE key = 'magic') AS magic,
                (SELECT value FROM meta WHERE key = 'schema_version') AS version`;

/** {@link CURRENT_SCHEMA_SQL} plus the journal mode and the file SQLite opened (symlinks resolved). */
const CURRENT_SCHEMA_WAL_FILE_SQL = `${CURRENT_SCHEMA_SQL},
                (SELECT journal_mode FROM pragma_journal_mode) AS journal,
                (SELECT file FROM pragma_database_list WHERE name = 'main') AS file`;

interface SchemaRow {
  tables: bigint;
  indexes: bigint;
  magic: unknown;
  version: unknown;
}

function isCurrentRow(row: SchemaRow | null): boolean {
  return row !== null && row.tables === 3n && row.indexes === 4n && row.magic === MAGIC && row.version === SCHEMA_VERSION;
}

function setUp(db: Database, path: string): void {
  const tables = new Set(
    (db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name),
  );
  if (tables.size === 0) {
    // auto_vacuum must be set before the first table exists (SPEC §1.5).
    db.run("PRAGMA auto_vacuum = 2");
  } else if (!tables.has("meta") && !tables.has("messages")) {
    // Q21: refuse to adopt a foreign SQLite file.
    throw new BackendError(`Database is missing SimpleBroker metadata: ${path}`);
  }
  if (tables.has("meta")) verifyMeta(db);
  const mode = db.query("PRAGMA journal_mode").get() as { journal_mode: string };
  if (String(mode.journal_mode).toLowerCase() !== "wal") {
    const set = db.query("PRAGMA journal_mode = WAL").get() as { journal_mode: string };
    if (String(set.journal_mode).toLowerCase() !== "wal") {
      throw new BackendError(`Failed to enable WAL mode, got: ${set.journal_mode}`);
    }
  }
  if (tables.has("meta") && tables.has("queue_aliases") && schemaVersion(db) === SCHEMA_VERSION && hasIndexes(db)) return;
  for (const sql of SCHEMA_STATEMENTS) db.run(sql);
  migrate(db);
  for (const sql of ["INSERT OR IGNORE INTO meta (key, value) VALUES ('magic', 'simplebroker-v1')"]) db.run(sql);
  db.run("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', 4)");
  verifyMeta(db);
}

function hasIndexes(db: Database): boolean {
  const row = db
    .query(
      "SELECT count(*) AS n FROM sqlite_master WHERE type = 'index' AND name IN ('idx_messages_queue_ts_id','idx_messages_unclaimed','idx_messages_ts_unique','idx_queue_aliases_target')",
    )
    .get() as { n: bigint };
  return row.n === 4n;
}

function schemaVersion(db: Database): bigint {
  const row = db.query("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: bigint } | null;
  return row ? BigInt(row.value) : 1n;
}

function verifyMeta(db: Database): void {
  const magic = db.query("SELECT value FROM meta WHERE key = 'magic'").get() as { value: unknown } | null;
  if (magic && magic.value !== MAGIC) {
    throw new BackendError(
      `Database magic string mismatch. Expected '${MAGIC}', found '${magic.value}'. This database may not be a SimpleBroker database.`,
    );
  }
  const version = schemaVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new BackendError(
      `Database schema version ${version} is newer than supported version 4. Please upgrade SimpleBroker.`,
    );
  }
}

function migrate(db: Database): void {
  const version = schemaVersion(db);
  const columns = (db.query("PRAGMA table_info(messages)").all() as { name: string }[]).map((c) => c.name);
  const transaction = (fn: () => void) => {
    db.run("BEGIN IMMEDIATE");
    try {
      fn();
      db.run("COMMIT");
    } catch (error) {
      db.run("ROLLBACK");
      throw error;
    }
  };
  const setVersion = (v: number) =>
    db.run(
      "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
      [v],
    );
  transaction(() => {
    if (!columns.includes("claimed")) db.run("ALTER TABLE messages ADD COLUMN claimed INTEGER DEFAULT 0");
    db.run(UNCLAIMED_INDEX);
    if (version < 2n) setVersion(2);
  });
  transaction(() => {
    const dup = db.query("SELECT ts FROM messages GROUP BY ts HAVING count(*) > 1 LIMIT 1").get();
    if (dup) {
      throw new BackendError(
        "Cannot add unique constraint on timestamp column: duplicate timestamps exist in the database.",
      );
    }
    db.run(TS_UNIQUE_INDEX);
    if (version < 3n) setVersion(3);
  });
  transaction(() => {
    for (const sql of ALIAS_STATEMENTS) db.run(sql);
    if (version < 4n) setVersion(4);
  });
}

/**
 * "Is this a SimpleBroker database?" (SPEC §1.4): regular file, SQLite
 * header, opens read-only, and (with `verifyMagic`) `meta.magic` is ours.
 * Throws {@link BackendError} with the 3.6.1 texts; never modifies the file.
 */
export function validateDatabaseFile(path: string, verifyMagic: boolean): void {
  let st;
  try {
    st = fs().statSync(path);
  } catch {
    throw new BackendError(`Database file does not exist: ${path}`);
  }
  if (!st.isFile()) throw new BackendError(`Path exists but is not a regular file: ${path}`);
  const buf = Buffer.alloc(16);
  try {
    const fd = fs().openSync(path, "r");
    try {
      fs().readSync(fd, buf, 0, 16, 0);
    } finally {
      fs().closeSync(fd);
    }
  } catch (error) {
    throw new BackendError(`Cannot read database file: ${path} (${messageOf(error)})`, { cause: error });
  }
  if (buf.toString("latin1") !== SQLITE_HEADER) {
    throw new BackendError(`File is not a valid SQLite database (invalid header): ${path}`);
  }
  let db: Database | undefined;
  try {
    db = new Database(path, { readonly: true });
    // As Python's sqlite3.connect (timeout 5 s): a reader can briefly get SQLITE_BUSY while a writer checkpoints.
    db.run("PRAGMA busy_timeout = 5000");
    db.query("PRAGMA schema_version").get();
    if (!verifyMagic) return;
    let row: { value: unknown } | null;
    try {
      row = db.query("SELECT value FROM meta WHERE key = 'magic'").get() as { value: unknown } | null;
    } catch {
      throw new BackendError(`Database is missing SimpleBroker metadata: ${path}`);
    }
    if (!row) throw new BackendError(`Database is missing SimpleBroker metadata: ${path}`);
    if (row.value !== MAGIC) throw new BackendError(`Database has incorrect magic string (not a SimpleBroker database): ${path}`);
  } catch (error) {
    if (error instanceof BackendError) throw error;
    throw new BackendError(`Database corruption or invalid format: ${path} (${messageOf(error)})`, { cause: error });
  } finally {
    db?.close();
  }
}
