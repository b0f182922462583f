/**
 * Telling a lost connection (the server is down, restarting or unreachable)
 * from every other failure, for the watchers that wait out outages
 * (docs/outages.md). Looks at the error and its `cause` chain: driver codes
 * (`ERR_POSTGRES_CONNECTION_*`, `ERR_REDIS_CONNECTION_*`), socket errno codes
 * and the SQLSTATEs of a server going away or not ready yet.
 * @module
 */

/** Socket-level codes of a connection that failed, closed or timed out. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTCONN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs of a server that went away or is not ready: class 08 (connection
 * exception), admin/crash shutdown, cannot connect now (starting up).
 */
const LOST_STATES = /^(08...|57P01|57P02|57P03)$/;

/** True when `error` (or an error it wraps) says the connection to the server was refused, reset, closed or timed out. */
export function isConnectionLoss(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 6 && e !== null && typeof e === "object"; depth++) {
    if (isLossItself(e as Record<string, unknown>)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

// --- internal ---

function isLossItself(e: Record<string, unknown>): boolean {
  const code = typeof e.code === "string" ? e.code : "";
  if (code.startsWith("ERR_POSTGRES_CONNECTION") || code.startsWith("ERR_REDIS_CONNECTION")) return true;
  if (code === "ERR_POSTGRES_IDLE_TIMEOUT" || code === "ERR_POSTGRES_LIFETIME_TIMEOUT") return true;
  if (SOCKET_CODES.has(code)) return true;
  if (typeof e.errno === "string" && LOST_STATES.test(e.errno)) return true;
  // A Redis server still loading its data set after a restart answers LOADING: it will be back.
  return code === "ERR_REDIS_SERVER_ERROR" && typeof e.message === "string" && e.message.startsWith("LOADING");
}
