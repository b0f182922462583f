/**
 * Setting up a SimpleBroker database that {@link identifyFile} accepted:
 * auto_vacuum on a new file, WAL, the schema v4 statements (idempotent and
 * compatible with Python 3.6.1's `IF NOT EXISTS` statements), migrations
 * v1→v4, then the magic and version checks.
 * @module
 */
import type { Database } from "bun:sqlite";
import { BackendError } from "../../core/errors.ts";
import { checkVersion, MAGIC, SCHEMA_VERSION } from "./_identify.ts";

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

/**
 * Bring a database that is ours (or empty) to schema v4 in WAL mode. The
 * tables are looked at once more on this connection: if another application
 * created the file since it was identified, nothing is changed.
 */
export function setUp(db: Database, path: string): void {
  const tables = new Set(
    (db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name),
  );
  if (tables.size === 0) {
    // auto_vacuum must be set before the first table exists.
    db.run("PRAGMA auto_vacuum = 2");
  } else if (!tables.has("meta") && !tables.has("messages")) {
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
  createSchema(db);
}

/** The schema v4 statements, the migrations and the magic/version rows, then the checks; idempotent. */
export function createSchema(db: Database): void {
  for (const sql of SCHEMA_STATEMENTS) db.run(sql);
  migrate(db);
  db.run(`INSERT OR IGNORE INTO meta (key, value) VALUES ('magic', '${MAGIC}')`);
  db.run("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', 4)");
  verifyMeta(db);
}

/**
 * The fast check of an existing file: one query confirms the complete schema
 * v4 (tables, indexes, magic, version). Anything else goes through
 * {@link setUp}, which also reports errors.
 */
export function isCurrentSchema(db: Database): boolean {
  try {
    return isCurrentRow(db.query(CURRENT_SCHEMA_SQL).get() as SchemaRow);
  } catch {
    return false;
  }
}

/** Counts of our tables and indexes, the magic and the schema version, in one row. */
export const CURRENT_SCHEMA_SQL = `SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('messages', 'meta', 'queue_aliases')) AS tables,
                (SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('idx_messages_queue_ts_id', 'idx_messages_unclaimed', 'idx_messages_ts_unique', 'idx_queue_aliases_target')) AS indexes,
                (SELECT value FROM meta WHERE key = 'magic') AS magic,
                (SELECT value FROM meta WHERE key = 'schema_version') AS version`;

/** One row of {@link CURRENT_SCHEMA_SQL}. */
export interface SchemaRow {
  tables: bigint;
  indexes: bigint;
  magic: unknown;
  version: unknown;
}

/** True when the row describes a complete schema v4 with our magic. */
export function isCurrentRow(row: SchemaRow | null): boolean {
  return row !== null && row.tables === 3n && row.indexes === 4n && row.magic === MAGIC && row.version === SCHEMA_VERSION;
}

// --- internal ---

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
  const version = db.query("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: unknown } | null;
  checkVersion(version?.value);
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
    db.run("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", [v]);
  transaction(() => {
    if (!columns.includes("claimed")) db.run("ALTER TABLE messages ADD COLUMN claimed INTEGER DEFAULT 0");
    db.run(UNCLAIMED_INDEX);
    if (version < 2n) setVersion(2);
  });
  transaction(() => {
    const dup = db.query("SELECT ts FROM messages GROUP BY ts HAVING count(*) > 1 LIMIT 1").get();
    if (dup) {
      throw new BackendError("Cannot add unique constraint on timestamp column: duplicate timestamps exist in the database.");
    }
    db.run(TS_UNIQUE_INDEX);
    if (version < 3n) setVersion(3);
  });
  transaction(() => {
    for (const sql of ALIAS_STATEMENTS) db.run(sql);
    if (version < 4n) setVersion(4);
  });
}
