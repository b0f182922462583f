/**
 * Opening a SimpleBroker SQLite file. Two paths:
 *
 * - the fast open of an existing, current database (one SQLite open without
 *   create and one query, no `node:fs`): what nearly every CLI call and
 *   library handle takes;
 * - the full open for anything else: the file is identified read-only first
 *   (`_identify.ts`: header, magic, schema version, our tables), so a file of
 *   another application is refused before any PRAGMA or DDL touches it; only
 *   then is it opened for writing and set up (`_setup.ts`: WAL, schema v4,
 *   migrations). A missing file is created 0600 in a folder created 0700.
 * @module
 */
import { Database } from "bun:sqlite";
import { fs } from "../../util/fs-lazy.ts";
import { dirname } from "../../util/path.ts";
import { BackendError } from "../../core/errors.ts";
import type { BrokerConfig } from "../../core/types.ts";
import { identifyFile } from "./_identify.ts";
import { isBusyError, messageOf, withBusyRetry } from "./_retry.ts";
import { createSchema, CURRENT_SCHEMA_SQL, isCurrentRow, isCurrentSchema, setUp, type SchemaRow } from "./_setup.ts";

export { MAGIC, SCHEMA_VERSION, validateDatabaseFile } from "./_identify.ts";
export { asBackendError, isBusyError, messageOf, withBusyRetry } from "./_retry.ts";

/** Mode of a folder we create for a database (never wider than the database file's 0600). */
export const DB_FOLDER_MODE = 0o700;

/** Files whose schema this process has already verified (schema set up once per file per process). */
const verified = new Set<string>();

/**
 * Open a connection to a SimpleBroker database, creating and setting it up
 * when needed. Throws {@link BackendError} for a file that is not SQLite, is
 * another application's SQLite file, has the wrong magic or a newer schema;
 * never modifies such a file.
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
 * create, one query that confirms schema v4 and WAL mode and says which file
 * SQLite opened, then the connection PRAGMAs. Returns undefined for anything
 * else (missing file, directory, not SQLite, another application's file,
 * older schema, rollback journal, wrong magic): {@link openDatabase}'s full
 * path then identifies the file and sets it up or reports the precise error.
 * The query only reads, and comes before any PRAGMA, so a file that is not
 * ours is left as it was. Needs no `node:fs`. A file already verified by this
 * process skips the query.
 */
export function openCurrentDatabase(path: string, config: BrokerConfig): OpenedDatabase | undefined {
  let db: Database;
  try {
    db = new Database(path, { readwrite: true, create: false, safeIntegers: true, strict: true });
  } catch {
    return undefined;
  }
  try {
    let file: string | undefined;
    if (!verified.has(path)) {
      const row = db.query(CURRENT_SCHEMA_WAL_FILE_SQL).get() as SchemaRow & { journal: string; file: string };
      if (!isCurrentRow(row) || String(row.journal).toLowerCase() !== "wal") {
        db.close();
        return undefined;
      }
      verified.add(path);
      file = row.file || undefined;
    }
    applyConnectionPragmas(db, config);
    return { db, file };
  } catch {
    db.close();
    return undefined;
  }
}

/**
 * An in-memory database with the complete schema and no messages: what a
 * read-only command sees where no database file exists, without creating one.
 */
export function openEmptyDatabase(): Database {
  const db = new Database(":memory:", { safeIntegers: true, strict: true });
  createSchema(db);
  return db;
}

/** The canonical path SQLite opened for `db` (every symlink resolved), or undefined for an in-memory database. */
export function openedFilePath(db: Database): string | undefined {
  const row = db.query("PRAGMA database_list").get() as { file?: string } | null;
  return row?.file || undefined;
}

/** Forget that a file was verified (after it was deleted, so it is set up again). */
export function forgetVerified(path: string): void {
  verified.delete(path);
}

// --- internal ---

/** {@link CURRENT_SCHEMA_SQL} plus the journal mode and the file SQLite opened (symlinks resolved). */
const CURRENT_SCHEMA_WAL_FILE_SQL = `${CURRENT_SCHEMA_SQL},
                (SELECT journal_mode FROM pragma_journal_mode) AS journal,
                (SELECT file FROM pragma_database_list WHERE name = 'main') AS file`;

function openAndSetUp(path: string, config: BrokerConfig): Database {
  const state = identifyFile(path, config.busyTimeout);
  const created = state.kind === "missing";
  if (created) {
    try {
      fs().mkdirSync(dirname(path), { recursive: true, mode: DB_FOLDER_MODE });
    } catch (error) {
      throw new BackendError(
        `Cannot create the database folder ${dirname(path)}: ${(error as { code?: string }).code ?? messageOf(error)}`,
        { cause: error },
      );
    }
  }
  let db: Database;
  try {
    db = new Database(path, { create: created, readwrite: true, safeIntegers: true, strict: true });
  } catch (error) {
    throw new BackendError(`Failed to get database connection: ${messageOf(error)}`, { cause: error });
  }
  try {
    if (created) {
      try {
        fs().chmodSync(path, 0o600);
      } catch {
        // a warning only in 3.6.1; the database stays usable
      }
    }
    applyConnectionPragmas(db, config);
    // A file verified earlier but missing now was deleted: the new one needs its schema.
    if (created) verified.delete(path);
    if (!verified.has(path)) {
      const current = state.kind === "ours" && state.wal && isCurrentSchema(db);
      if (!current) withBusyRetry(() => setUp(db, path), 10_000);
      verified.add(path);
    }
    return db;
  } catch (error) {
    db.close();
    if (error instanceof BackendError) throw error;
    throw new BackendError(`Database error: ${messageOf(error)}`, { cause: error, retryable: isBusyError(error) });
  }
}

/** The per-connection settings in one call (busy timeout, WAL checkpoint interval, cache, sync mode). */
function applyConnectionPragmas(db: Database, config: BrokerConfig): void {
  db.run(
    `PRAGMA busy_timeout = ${Math.max(0, Math.trunc(config.busyTimeout))}; ` +
      `PRAGMA wal_autocheckpoint = ${config.walAutocheckpoint}; ` +
      `PRAGMA cache_size = ${-Math.trunc(config.cacheMb * 1024)}; ` +
      `PRAGMA synchronous = ${config.syncMode}`,
  );
}
