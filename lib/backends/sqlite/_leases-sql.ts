/**
 * The SQL of leases and delays on SQLite (docs/leases.md#sqlite): the two
 * side tables, created on first use only, so a file that never held a
 * message keeps SimpleBroker 3.6.1's schema exactly, and the statements that
 * move a message between `messages` and `broker_held`.
 * @module
 */

/** Held messages: out of `messages` (so no 3.6.1 reader or vacuum sees them) until they come back. */
export const HELD_TABLE = "broker_held";

/**
 * The side tables. `id` is the message's row id in `messages` (kept, or
 * reserved for a delayed write), so a message that comes back takes its
 * original place in id order too. `token` is NULL for a delayed message.
 * `broker_attempts` remembers the lease count of a message that came back
 * pending; a row whose message is gone is forgotten by the next vacuum.
 */
export const CREATE_HELD_SQL = [
  `CREATE TABLE IF NOT EXISTS broker_held (
    ts INTEGER PRIMARY KEY,
    id INTEGER NOT NULL,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    due INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    token TEXT
)`,
  "CREATE INDEX IF NOT EXISTS idx_broker_held_queue_due ON broker_held(queue, due)",
  "CREATE INDEX IF NOT EXISTS idx_broker_held_due ON broker_held(due)",
  "CREATE TABLE IF NOT EXISTS broker_attempts (\n    ts INTEGER PRIMARY KEY,\n    attempt INTEGER NOT NULL\n)",
];

/** Whether the held table exists (looked up when the schema cookie moved). */
export const HELD_EXISTS_SQL = "SELECT 1 AS e FROM sqlite_master WHERE type = 'table' AND name = 'broker_held'";
export const SCHEMA_VERSION_SQL = "PRAGMA schema_version";

/** A held row as selected. */
export type HeldRow = { ts: bigint; id: bigint; queue: string; body: string; due: bigint; attempt: bigint; token: string | null };

// --- coming back: pending again, same id and row id; the lease count is remembered ---

export const ANY_DUE_SQL = "SELECT 1 AS e FROM broker_held WHERE queue = ? AND due <= ? LIMIT 1";
export const ANY_DUE_ALL_SQL = "SELECT 1 AS e FROM broker_held WHERE due <= ? LIMIT 1";
export const RETURN_DUE_SQL =
  "INSERT INTO messages (id, queue, body, ts, claimed) SELECT id, queue, body, ts, 0 FROM broker_held WHERE queue = ? AND due <= ? ORDER BY id";
export const REMEMBER_DUE_SQL =
  "INSERT OR REPLACE INTO broker_attempts (ts, attempt) SELECT ts, attempt FROM broker_held WHERE queue = ? AND due <= ? AND attempt > 0";
export const FORGET_DUE_SQL = "DELETE FROM broker_held WHERE queue = ? AND due <= ?";
export const DUE_QUEUES_SQL = "SELECT DISTINCT queue FROM broker_held WHERE due <= ? ORDER BY queue";

/** One held message back to `messages` (`queue` may differ: a dead letter). */
export const RETURN_ONE_SQL = "INSERT INTO messages (id, queue, body, ts, claimed) VALUES (?, ?, ?, ?, 0)";
export const REMEMBER_ONE_SQL = "INSERT OR REPLACE INTO broker_attempts (ts, attempt) VALUES (?, ?)";
export const FORGET_ONE_SQL = "DELETE FROM broker_held WHERE ts = ?";

// --- taking a lease ---

/** The lease count a pending message had, forgotten as it is taken again. */
export const TAKE_ATTEMPT_SQL = "DELETE FROM broker_attempts WHERE ts = ? RETURNING attempt";
export const HOLD_SQL = "INSERT INTO broker_held (ts, id, queue, body, due, attempt, token) VALUES (?, ?, ?, ?, ?, ?, ?)";

/** The held row of one message under a lease (any lease, or the one with the token). */
export const LEASED_ROW_SQL = "SELECT * FROM broker_held WHERE queue = ? AND ts = ? AND token IS NOT NULL";
export const LEASED_ROW_TOKEN_SQL = "SELECT * FROM broker_held WHERE queue = ? AND ts = ? AND token = ?";

export const DELAY_ONE_SQL = "UPDATE broker_held SET due = ?, token = NULL WHERE ts = ?";
export const EXTEND_SQL = "UPDATE broker_held SET due = ? WHERE ts = ?";

// --- delayed writes: row ids reserved now from AUTOINCREMENT's counter ---

export const SEQ_SQL = "SELECT seq FROM sqlite_sequence WHERE name = 'messages'";
export const SEQ_SET_SQL = "UPDATE sqlite_sequence SET seq = ? WHERE name = 'messages'";
export const SEQ_INSERT_SQL = "INSERT INTO sqlite_sequence (name, seq) VALUES ('messages', ?)";
export const MAX_ID_SQL = "SELECT COALESCE(MAX(id), 0) AS m FROM messages";

// --- inspection ---

export const HELD_STATS_SQL =
  "SELECT queue, SUM(CASE WHEN token IS NOT NULL THEN 1 ELSE 0 END) AS leased, SUM(CASE WHEN token IS NULL THEN 1 ELSE 0 END) AS scheduled FROM broker_held GROUP BY queue ORDER BY queue";
export const HELD_STATS_QUEUE_SQL =
  "SELECT queue, SUM(CASE WHEN token IS NOT NULL THEN 1 ELSE 0 END) AS leased, SUM(CASE WHEN token IS NULL THEN 1 ELSE 0 END) AS scheduled FROM broker_held WHERE queue = ? GROUP BY queue";
export const PEEK_HELD_SQL = "SELECT * FROM broker_held WHERE queue = ? AND ts > ? ORDER BY ts LIMIT ?";

// --- housekeeping ---

/** Lease counts of messages no longer pending (read, acked, deleted, vacuumed). */
export const FORGET_STALE_ATTEMPTS_SQL =
  "DELETE FROM broker_attempts WHERE NOT EXISTS (SELECT 1 FROM messages WHERE messages.ts = broker_attempts.ts AND claimed = 0)";
export const DELETE_HELD_QUEUE_SQL = "DELETE FROM broker_held WHERE queue = ?";
export const DELETE_HELD_ALL_SQL = "DELETE FROM broker_held";
export const RENAME_HELD_SQL = "UPDATE broker_held SET queue = ? WHERE queue = ?";
