/**
 * Opening a Bun.SQL pool on a target (a `postgres://` URL or a libpq
 * `key=value` string) and turning driver errors into one-line
 * {@link BackendError}s that never contain the password.
 * @module
 */
// Type-only: the value comes from the Bun global, so the compiled CLI does not load the SQL client at start-up.
import type { SQL } from "bun";
import { BackendError, isBrokerError } from "../../core/errors.ts";
import { connectTimeoutSeconds } from "../connect-timeout.ts";
import { redactTarget } from "../redact.ts";

/** SQLSTATEs worth retrying: serialization failure, deadlock, lock not available, statement timeout, too many connections, server shutdown. */
const RETRYABLE_STATES = new Set(["40001", "40P01", "55P03", "57014", "53300", "57P01", "57P02", "57P03"]);
/** Connection failures a retry cannot fix: bad credentials, no such database. */
const PERMANENT_STATES = new Set(["28P01", "28000", "3D000"]);

/** The SQLSTATE of a driver error, if the server sent one. */
export function sqlState(error: unknown): string | undefined {
  const errno = (error as { errno?: unknown })?.errno;
  return typeof errno === "string" ? errno : undefined;
}

/** True for a failure to reach or keep a connection (not an error of the statement). */
export function isConnectionError(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? "");
  const state = sqlState(error) ?? "";
  return (
    code.startsWith("ERR_POSTGRES_CONNECTION") ||
    code === "ERR_POSTGRES_IDLE_TIMEOUT" ||
    code === "ERR_POSTGRES_LIFETIME_TIMEOUT" ||
    code.startsWith("ERR_POSTGRES_TLS") ||
    /^E[A-Z]+$/.test(code) ||
    state.startsWith("08") ||
    state === "53300" ||
    state === "28P01" ||
    state === "28000" ||
    state === "3D000"
  );
}

/** Where and how to connect, with the password kept aside for scrubbing. */
export interface ConnectionInfo {
  /** The URL given to `new SQL(url, …)`, or undefined for a `key=value` target. */
  url: string | undefined;
  /** Connection fields parsed from a `key=value` target (hostname, port, username, password, database). */
  fields: Record<string, string | number>;
  /** The target as shown to users. */
  display: string;
  password: string;
  /** Seconds a connection may take, startup answer included (BROKER_BACKEND_CONNECT_TIMEOUT). */
  connectTimeout: number;
}

/** Parse a target: URLs pass through; a libpq `key=value` string becomes fields. */
export function parseTarget(target: string, connectTimeout = 5): ConnectionInfo {
  connectTimeout = connectTimeoutSeconds(connectTimeout);
  const display = redactTarget(target);
  if (/^postgres(ql)?:\/\//i.test(target)) {
    let password = "";
    try {
      password = decodeURIComponent(new URL(target).password);
    } catch {
      throw new BackendError(`Invalid PostgreSQL target: ${display}`);
    }
    return { url: target, fields: {}, display, password, connectTimeout };
  }
  const fields: Record<string, string | number> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S*))/g;
  for (const m of target.matchAll(re)) {
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? "");
    const key = { host: "hostname", hostaddr: "hostname", user: "username", dbname: "database" }[m[1]!] ?? m[1]!;
    if (["hostname", "port", "username", "password", "database"].includes(key))
      fields[key] = key === "port" ? Number(value) : value;
  }
  if (Object.keys(fields).length === 0) throw new BackendError(`Invalid PostgreSQL target: ${display}`);
  return { url: undefined, fields, display, password: String(fields.password ?? ""), connectTimeout };
}

/** Who wants to hear that a connection of a pool closed on an error (the LISTEN side, notify.ts). */
const closeWatchers = new WeakMap<SQL, Set<(error: Error) => void>>();

/** Call `fn` whenever a connection of `pool` (its LISTEN connection included) closes with an error; returns the undo. */
export function onConnectionClosed(pool: SQL, fn: (error: Error) => void): () => void {
  let set = closeWatchers.get(pool);
  if (!set) closeWatchers.set(pool, (set = new Set()));
  set.add(fn);
  return () => set.delete(fn);
}

/** A lazily connecting pool (`bigint: true`: every int8 arrives as a bigint). */
export function openPool(info: ConnectionInfo, max: number): SQL {
  let pool: SQL | undefined;
  const onclose = (error: Error | null) => {
    if (error && pool) for (const fn of closeWatchers.get(pool) ?? []) fn(error);
  };
  const options = {
    onclose,
    ...info.fields,
    adapter: "postgres" as const,
    bigint: true,
    max,
    idleTimeout: 60,
    connectionTimeout: info.connectTimeout,
    connection: { application_name: "simplebroker" },
  };
  try {
    pool = info.url === undefined ? new Bun.SQL(options) : new Bun.SQL(info.url, options);
    return pool;
  } catch (error) {
    throw wrapError(error, info, "Cannot open PostgreSQL connection pool");
  }
}

/**
 * Wrap a driver error in a one-line {@link BackendError} (broker errors pass
 * through). The password, and its URL-encoded form, are replaced by `***`.
 */
export function wrapError(error: unknown, info: ConnectionInfo, context?: string): Error {
  if (isBrokerError(error)) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const code = String((error as { code?: unknown })?.code ?? "");
  const state = sqlState(error);
  let text: string;
  if (isConnectionError(error)) {
    const detail = state ? `${raw} (SQLSTATE ${state})` : code ? `${raw} (${code})` : raw;
    text = `${context ?? "Cannot connect to PostgreSQL"} at ${info.display}: ${detail}`;
  } else {
    text = `${context ? `${context}: ` : ""}PostgreSQL error: ${raw}${state ? ` (SQLSTATE ${state})` : ""}`;
  }
  text = scrub(text.replace(/\s*\n\s*/g, " "), info.password);
  const retryable =
    state !== undefined
      ? RETRYABLE_STATES.has(state) || (isConnectionError(error) && !PERMANENT_STATES.has(state))
      : isConnectionError(error);
  return new BackendError(text, { cause: error, retryable });
}

/** Replace every occurrence of the password (plain and URL-encoded) by `***`. */
export function scrub(text: string, password: string): string {
  // Very short passwords would mangle ordinary words; driver messages never carry them anyway.
  if (password.length < 3) return text;
  let out = text.split(password).join("***");
  const encoded = encodeURIComponent(password);
  if (encoded !== password) out = out.split(encoded).join("***");
  return out;
}
