/**
 * Where the live PostgreSQL and Redis servers of the tests are, checked
 * before a suite uses them: a suite that starts with
 * `const URL = await postgresUrl()` fails at once with one line naming the
 * server when nothing answers there, instead of every test waiting on a
 * connection (`bash .ci/run` starts both servers).
 *
 * The check sends each server the smallest request it must answer (Redis:
 * `PING`; PostgreSQL: an SSLRequest, answered `S` or `N`) and waits
 * {@link PREFLIGHT_SECONDS} at most. It runs once per process and URL.
 */

import type { BrokerTarget } from "../lib/core/types.ts";

/** A resolved target for a PostgreSQL schema or Redis namespace `name` on the server at `url` (what openBroker and the watchers take). */
export function storeTarget(kind: "postgres" | "redis", url: string, name: string): BrokerTarget {
  return {
    backendName: kind,
    target: url,
    backendOptions: kind === "postgres" ? { schema: name } : { namespace: name },
    projectRoot: null,
    configPath: null,
    usedProjectScope: false,
    legacySqlitePathMode: false,
  };
}

/** How long a server may take to answer the preflight. */
export const PREFLIGHT_SECONDS = 3;

/** `BROKER_TEST_POSTGRES_URL` (default: the local test database), once a server answers there. */
export function postgresUrl(): Promise<string> {
  const url = process.env.BROKER_TEST_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/test";
  return checked("PostgreSQL", "BROKER_TEST_POSTGRES_URL", url, 5432, SSL_REQUEST);
}

/** `BROKER_TEST_REDIS_URL` (default: database 0 of the local server), once a server answers there. */
export function redisUrl(): Promise<string> {
  const url = process.env.BROKER_TEST_REDIS_URL || "redis://127.0.0.1:6379/0";
  return checked("Redis", "BROKER_TEST_REDIS_URL", url, 6379, new TextEncoder().encode("PING\r\n"));
}

/** Delete every key of the Redis server at `url` matching the glob `pattern` (SCAN + UNLINK): a suite's own leftovers. */
export async function unlinkRedisKeys(url: string, pattern: string): Promise<void> {
  const admin = new Bun.RedisClient(url);
  try {
    let cursor = "0";
    do {
      const [next, keys] = (await admin.send("SCAN", [cursor, "MATCH", pattern, "COUNT", "1000"])) as [string, string[]];
      cursor = String(next);
      if (keys.length) await admin.send("UNLINK", keys);
    } while (cursor !== "0");
  } finally {
    admin.close();
  }
}

// --- internal ---

/** PostgreSQL's SSLRequest: length 8, code 80877103. */
const SSL_REQUEST = new Uint8Array([0, 0, 0, 8, 4, 210, 22, 47]);

const results = new Map<string, Promise<string>>();

function checked(name: string, variable: string, url: string, defaultPort: number, request: Uint8Array): Promise<string> {
  let result = results.get(url);
  if (!result) {
    result = probe(url, defaultPort, request).then((problem) => {
      if (problem === null) return url;
      const message =
        `${name} for the tests does not answer at ${redact(url)} (${variable}): ${problem}. ` +
        `Start it (bash .ci/run does) or point ${variable} at a running server.`;
      const error = new Error(message);
      error.stack = message; // the line says it all; a stack trace would only bury it
      throw error;
    });
    results.set(url, result);
  }
  return result;
}

/** null when the server answered `request`, else what went wrong. */
async function probe(url: string, defaultPort: number, request: Uint8Array): Promise<string | null> {
  let host: string;
  let port: number;
  try {
    const u = new URL(url);
    host = u.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
    port = Number(u.port || defaultPort);
  } catch {
    return "not a URL";
  }
  const { promise, resolve } = Promise.withResolvers<string | null>();
  const timer = setTimeout(() => resolve(`no answer within ${PREFLIGHT_SECONDS} s`), PREFLIGHT_SECONDS * 1000);
  try {
    const socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        open: (s) => void s.write(request),
        data: () => resolve(null),
        close: () => resolve("the connection closed without an answer"),
        error: (_s, error) => resolve(describe(error)),
        connectError: (_s, error) => resolve(describe(error)),
      },
    });
    const problem = await promise;
    socket.end();
    return problem;
  } catch (error) {
    return describe(error);
  } finally {
    clearTimeout(timer);
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const message = (error as Error)?.message || String(error);
  return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}
