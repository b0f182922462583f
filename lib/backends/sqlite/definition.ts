/**
 * The SQLite backend's definition: the default backend, whose target is a
 * database file. Recognising a SimpleBroker file is cheap and needs no store;
 * the store itself loads on first use.
 * @module
 */
import { Database } from "bun:sqlite";
import { fs } from "../../util/fs-lazy.ts";
import { dirname } from "../../util/path.ts";
import type { FileBackendDefinition } from "../../core/types.ts";

/** Value of `meta.magic` in every SimpleBroker SQLite database. */
export const SIMPLEBROKER_MAGIC = "simplebroker-v1";

/** The built-in `sqlite` backend: one database file. */
export const sqliteDefinition: FileBackendDefinition = {
  name: "sqlite",
  async create(target, config) {
    const { createSqliteBackend } = await import("./index.ts");
    return createSqliteBackend(target.target, config);
  },
  files: {
    isStore: isValidSimpleBrokerDb,
    check(path, strict) {
      // Loaded on first use: recognising a target must not load the schema code.
      (require("./schema.ts") as typeof import("./schema.ts")).validateDatabaseFile(path, strict);
    },
  },
};

/**
 * True when `path` is a SimpleBroker SQLite database: a readable and writable
 * regular file in a writable directory, with the SQLite header, that opens
 * read-only and has `meta.magic = 'simplebroker-v1'`. Never throws.
 */
export function isValidSimpleBrokerDb(path: string): boolean {
  try {
    if (!fs().statSync(path).isFile()) return false;
    fs().accessSync(dirname(path), fs().constants.R_OK | fs().constants.W_OK);
    fs().accessSync(path, fs().constants.R_OK | fs().constants.W_OK);
    const header = Buffer.alloc(16);
    const fd = fs().openSync(path, "r");
    let read: number;
    try {
      read = fs().readSync(fd, header, 0, 16, 0);
    } finally {
      fs().closeSync(fd);
    }
    if (read < 16 || header.toString("latin1") !== "SQLite format 3\0") return false;
    const db = new Database(path, { readonly: true });
    try {
      db.run("PRAGMA busy_timeout = 5000"); // as Python's sqlite3.connect: wait out a concurrent checkpoint
      const row = db.query("SELECT value FROM meta WHERE key = 'magic'").get() as { value: unknown } | null;
      return row?.value === SIMPLEBROKER_MAGIC;
    } finally {
      db.close();
    }
  } catch {
    return false;
  }
}
