/**
 * SQLite failures: which are worth retrying (lock/busy), the retry loop with
 * SimpleBroker's back-off, and raw SQLite errors as {@link BackendError}s.
 * @module
 */
import { SQLiteError } from "bun:sqlite";
import { BackendError } from "../../core/errors.ts";

/** True for SQLite's lock/busy errors, which are worth retrying. */
export function isBusyError(error: unknown): boolean {
  const text = messageOf(error).toLowerCase();
  return (
    text.includes("database is locked") ||
    text.includes("database table is locked") ||
    text.includes("database schema is locked") ||
    text.includes("database is busy") ||
    text.includes("database busy") ||
    (error as { code?: string })?.code?.startsWith?.("SQLITE_BUSY") === true ||
    (error as { code?: string })?.code?.startsWith?.("SQLITE_LOCKED") === true
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
