/**
 * Names and encodings of the Redis backend (docs/on-disk-format.md#redis): the namespace key
 * prefix, the 19-digit member form of ids, and the backend options.
 *
 * Layout under `simplebroker:<namespace>:`
 *
 *     meta                      hash: magic, schema_version, last_ts, alias_version
 *     queues                    set: every queue with pending, claimed or reserved ids
 *     aliases                   hash: alias -> target
 *     bodies                    hash: id -> body
 *     q:<queue>:pending         zset (score 0, member = 19-digit id: lex = numeric = FIFO)
 *     q:<queue>:claimed         zset, read but not yet vacuumed
 *     q:<queue>:reserved        zset, taken by an open at-least-once reservation
 *     q:<queue>:batches         zset: reservation token scored by its deadline (ms)
 *     q:<queue>:held            zset: held ids (leased or delayed) scored by deadline / due time (ms)
 *     leases                    hash: id -> token of its lease (leased ids only)
 *     attempts                  hash: id -> leases taken of it so far
 *     heldq                     set: queues with held ids
 *     batches:<token>:ids|meta  the ids of one reservation; its queue, destination, deadline
 *     claims:<token>            string: ids a claim took, comma-separated (expire after 10 minutes)
 *     vacuum_lock               string with a PX expiry while a vacuum runs
 *     load:<token>:msgs|aliases a load's staged records until it applies them (expire after an hour)
 *     activity:q:<queue>        pub/sub channel (payload: queue name)
 *     activity:all              pub/sub channel (payload `*`: broadcast, delete --all)
 * @module
 */
import { ConfigError } from "../../core/errors.ts";
import type { Selection } from "../../core/types.ts";

/** `meta.magic` of every SimpleBroker namespace. */
export const MAGIC = "simplebroker-v1";
/** Schema version of the Redis layout. */
export const SCHEMA_VERSION = 1;
/** Namespace used when neither `.broker.toml` nor the options name one. */
export const DEFAULT_NAMESPACE = "simplebroker_redis_v1";
/** Seconds after which an uncommitted reservation goes back to pending. */
export const DEFAULT_RESERVATION_TIMEOUT = 300;

const NAMESPACE_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;
const ID_DIGITS = 19;
const MAX_ID = (1n << 63n) - 1n;

/** The options a `.broker.toml` `[backend_options]` table may hold for redis. */
export interface RedisSettings {
  namespace: string;
  /** Reservation staleness in milliseconds. */
  reservationTimeoutMs: number;
}

/** Validate `options.namespace` and `options.reservation_timeout` (seconds). */
export function parseSettings(options: Record<string, unknown>): RedisSettings {
  const namespace = String(options.namespace ?? DEFAULT_NAMESPACE);
  // No ':' and no glob characters: `simplebroker:<ns>:*` must never match another namespace's keys.
  if (!NAMESPACE_RE.test(namespace)) {
    throw new ConfigError(
      `Invalid Redis namespace '${namespace}': use 1-200 letters, digits, '_', '.' or '-' (not starting with '.' or '-')`,
      { key: "namespace" },
    );
  }
  const raw = options.reservation_timeout ?? options.reservationTimeout ?? DEFAULT_RESERVATION_TIMEOUT;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new ConfigError(`Invalid Redis reservation_timeout '${String(raw)}': expected a positive number of seconds`, {
      key: "reservation_timeout",
    });
  }
  return { namespace, reservationTimeoutMs: Math.max(1, Math.round(seconds * 1000)) };
}

/** The key prefix of a namespace: `simplebroker:<namespace>:`. */
export function keyPrefix(namespace: string): string {
  return `simplebroker:${namespace}:`;
}

/** An id as a zset member: 19 zero-padded digits, so lexicographic order is numeric order. */
export function idMember(id: bigint): string {
  return id.toString().padStart(ID_DIGITS, "0");
}

/** Whether `id` can be a message id at all (0 < id < 2^63). */
export function isPossibleId(id: bigint): boolean {
  return id > 0n && id <= MAX_ID;
}

/** Lower bound argument for the scripts: `""` = unbounded. */
export function afterArg(after: bigint | undefined): string {
  return after === undefined || after < 0n ? "" : idMember(after > MAX_ID ? MAX_ID : after);
}

/** Upper bound argument; `null` when nothing can match (`before` ≤ 1). */
export function beforeArg(before: bigint | undefined): string | null {
  if (before === undefined || before > MAX_ID) return "";
  return before <= 1n ? null : idMember(before);
}

/** Escape the glob characters of a literal for `SCAN … MATCH`. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

const OWN_KEY =
  /^(?:meta|queues|aliases|bodies|leases|attempts|heldq|vacuum_lock|q:[A-Za-z0-9_][A-Za-z0-9_.-]{0,511}:(?:pending|claimed|reserved|batches|held)|batches:[0-9a-f-]{36}:(?:ids|meta)|claims:[0-9a-f-]{36}|load:[0-9a-f-]{36}:(?:msgs|aliases))$/;

/** Whether `key` (a key under `prefix`) is one of the keys of the layout above. */
export function isOwnKey(prefix: string, key: string): boolean {
  return key.startsWith(prefix) && OWN_KEY.test(key.slice(prefix.length));
}

/** Largest limit passed to a script: a larger or unbounded one is capped to it. */
const BIG_LIMIT = 2_000_000_000;

/** Script arguments of a selection, or null when it cannot match anything. */
export function selectionArgs(sel: Selection): { limit: string; after: string; before: string; exact: string } | null {
  const raw = sel.limit ?? 1;
  const limit = Number.isFinite(raw) ? Math.min(Math.floor(raw), BIG_LIMIT) : BIG_LIMIT;
  if (limit < 1) return null;
  if (sel.exactId !== undefined) {
    if (!isPossibleId(sel.exactId)) return null;
    return { limit: "1", after: "", before: "", exact: idMember(sel.exactId) };
  }
  const before = beforeArg(sel.before);
  if (before === null) return null;
  return { limit: String(limit), after: afterArg(sel.after), before, exact: "" };
}
