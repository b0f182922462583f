/**
 * Telling a SimpleBroker database from anything else, without changing it:
 * the SQLite header is read with plain file reads and the schema on a
 * read-only connection, before any connection that could write is opened.
 * A file that is not ours is refused with one line and left byte-identical.
 * @module
 */
import { Database } from "bun:sqlite";
import type { Stats } from "node:fs";
import { fs } from "../../util/fs-lazy.ts";
import { BackendError } from "../../core/errors.ts";
import { isBusyError, messageOf } from "./_retry.ts";

/** The schema version we write; never higher (Python 3.6.1 refuses > 4). */
export const SCHEMA_VERSION = 4n;
/** `meta.magic` of every SimpleBroker database. */
export const MAGIC = "simplebroker-v1";
const SQLITE_HEADER = "SQLite format 3\0";

/** What is at a database path before we open it for writing. */
export type FileState =
  /** Nothing there: we create it. */
  | { kind: "missing" }
  /** A zero-byte file, or a SQLite file without a single table, index, view or trigger: we set it up. */
  | { kind: "empty" }
  /** A SimpleBroker database (any schema version up to ours); `wal` from the header's version bytes. */
  | { kind: "ours"; wal: boolean };

/**
 * The names an older SimpleBroker file may hold besides `sqlite_*` objects (3.x creates or drops all of
 * them). Plain arrays, not Sets: a Set built from a list at module load costs the CLI's start-up.
 */
const KNOWN_OBJECTS = [
  "messages",
  "meta",
  "queue_aliases",
  "idx_messages_queue_ts_id",
  "idx_messages_unclaimed",
  "idx_messages_ts_unique",
  "idx_queue_aliases_target",
  "idx_messages_queue_ts",
  "idx_queue_id",
  "idx_queue_ts",
];
const MESSAGE_COLUMNS = ["id", "queue", "body", "ts"];
const META_KEYS = ["last_ts", "alias_version", "schema_version"];

/**
 * Identify the file at `path` read-only (header, then schema on a read-only
 * connection). Throws {@link BackendError} for a file that is not SQLite, a
 * SQLite file of another application (3.6.1's "missing SimpleBroker metadata"
 * text), a wrong magic or a newer schema version.
 *
 * A file without `meta.magic` counts as an older SimpleBroker file only when
 * it holds a `messages` table with SimpleBroker's columns, nothing but
 * SimpleBroker's table and index names, and (if `meta` exists) only
 * SimpleBroker's meta keys; anything else is another application's file.
 */
export function identifyFile(path: string, busyTimeoutMs: number): FileState {
  const header = readHeader(path);
  if (header === undefined) return { kind: "missing" };
  if (header.size === 0) return { kind: "empty" };
  if (header.size < 16 || header.text !== SQLITE_HEADER) {
    throw new BackendError(`File at ${path} exists but is not a valid SQLite database`);
  }
  let db: Database;
  try {
    db = new Database(path, { readonly: true, safeIntegers: true, strict: true });
  } catch (error) {
    throw new BackendError(`Failed to get database connection: ${messageOf(error)}`, { cause: error });
  }
  try {
    db.run(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    const objects = db.query("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").all() as {
      type: string;
      name: string;
    }[];
    if (objects.length === 0) return { kind: "empty" };
    const names = new Set(objects.map((o) => o.name));
    const meta = names.has("meta") ? readMeta(db) : undefined;
    const magic = meta?.get("magic");
    if (magic !== undefined) {
      if (magic !== MAGIC) {
        throw new BackendError(
          `Database magic string mismatch. Expected '${MAGIC}', found '${magic}'. This database may not be a SimpleBroker database.`,
        );
      }
    } else if (!isOlderSimpleBroker(db, names, meta)) {
      throw new BackendError(`Database is missing SimpleBroker metadata: ${path}`);
    }
    checkVersion(meta?.get("schema_version"));
    return { kind: "ours", wal: header.wal };
  } catch (error) {
    if (error instanceof BackendError) throw error;
    throw new BackendError(`Database error: ${messageOf(error)}`, { cause: error, retryable: isBusyError(error) });
  } finally {
    db.close();
  }
}

/** Refuse a schema newer than ours (3.6.1's text); a missing version is 1. */
export function checkVersion(value: unknown): void {
  const version = toBigInt(value) ?? 1n;
  if (version > SCHEMA_VERSION) {
    throw new BackendError(`Database schema version ${version} is newer than supported version 4. Please upgrade SimpleBroker.`);
  }
}

/**
 * "Is this a SimpleBroker database?" as 3.6.1 asks it for `--cleanup`, `init`
 * and project discovery: regular file, SQLite header, opens read-only, and
 * (with `verifyMagic`) `meta.magic` is ours. Throws {@link BackendError} with
 * the 3.6.1 texts; never modifies the file.
 */
export function validateDatabaseFile(path: string, verifyMagic: boolean): void {
  let st: Stats;
  try {
    st = fs().statSync(path);
  } catch {
    throw new BackendError(`Database file does not exist: ${path}`);
  }
  if (!st.isFile()) throw new BackendError(`Path exists but is not a regular file: ${path}`);
  const header = readHeader(path);
  if (header?.text !== SQLITE_HEADER) {
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

// --- internal ---

/** The first 20 bytes of a regular file as text, its size, and WAL mode (header bytes 18-19 = 2); undefined when missing. */
function readHeader(path: string): { size: number; text: string; wal: boolean } | undefined {
  let size: number;
  try {
    const st = fs().statSync(path);
    if (!st.isFile()) throw new BackendError(`Path exists but is not a regular file: ${path}`);
    size = st.size;
  } catch (error) {
    if (error instanceof BackendError) throw error;
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw new BackendError(`Cannot read database file: ${path} (${messageOf(error)})`, { cause: error });
  }
  if (size === 0) return { size, text: "", wal: false };
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
  return { size, text: buf.toString("latin1", 0, Math.min(16, size)), wal: buf[18] === 2 && buf[19] === 2 };
}

/** `meta` as key → value, or undefined when it is not a `(key, value)` table. Reads at most a few rows. */
function readMeta(db: Database): Map<string, unknown> | undefined {
  const columns = columnNames(db, "meta");
  if (!columns.includes("key") || !columns.includes("value")) return undefined;
  const rows = db.query("SELECT key, value FROM meta LIMIT 16").all() as { key: unknown; value: unknown }[];
  return new Map(rows.map((r) => [String(r.key), r.value]));
}

function isOlderSimpleBroker(db: Database, names: Set<string>, meta: Map<string, unknown> | undefined): boolean {
  if (!names.has("messages")) return false;
  for (const name of names) if (!KNOWN_OBJECTS.includes(name)) return false;
  const columns = columnNames(db, "messages");
  if (!MESSAGE_COLUMNS.every((c) => columns.includes(c))) return false;
  if (!columns.every((c) => MESSAGE_COLUMNS.includes(c) || c === "claimed")) return false;
  if (names.has("meta")) {
    if (meta === undefined || meta.size >= 16) return false;
    for (const key of meta.keys()) if (!META_KEYS.includes(key)) return false;
  }
  return true;
}

function columnNames(db: Database, table: string): string[] {
  return (db.query(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((c) => c.name);
}

function toBigInt(value: unknown): bigint | undefined {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return BigInt(value.trim());
  return undefined;
}
