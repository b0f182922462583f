/**
 * A URL as a target (docs/urls.md): `postgres://` / `postgresql://` open the
 * PostgreSQL backend, `redis://` / `rediss://` / `valkey://` / `valkeys://`
 * the Redis backend. The schema (PostgreSQL) or namespace (Redis) comes from
 * the caller's options or the URL's query string (`?schema=x`,
 * `?namespace=y`). Any other `scheme://…`, and a backend scheme without its
 * `//` (`postgres:/x`), is refused: such a string is never a file path.
 * @module
 */
import { ArgumentError } from "../core/errors.ts";
import { redactTarget } from "../backends/redact.ts";
import type { BrokerConfig, BrokerTarget } from "../core/types.ts";
import { initBackend } from "./backend-target.ts";

/** The store inside a URL's server: `schema` (PostgreSQL) or `namespace` (Redis). */
export interface UrlTargetOptions {
  /** PostgreSQL schema (default `simplebroker_pg_v1`); for Redis, a synonym of `namespace`. */
  schema?: string;
  /** Redis key namespace (default `simplebroker_redis_v1`). */
  namespace?: string;
}

/** How a URL scheme opens a store: the backend, and the option names of its store, the first one canonical. */
interface SchemeRule {
  backend: string;
  store: readonly (keyof UrlTargetOptions)[];
}

const POSTGRES: SchemeRule = { backend: "postgres", store: ["schema"] };
const REDIS: SchemeRule = { backend: "redis", store: ["namespace", "schema"] };

/** URL schemes a target may use, and how each opens its backend. */
export const URL_SCHEMES: Readonly<Record<string, SchemeRule>> = {
  postgres: POSTGRES,
  postgresql: POSTGRES,
  redis: REDIS,
  rediss: REDIS,
  valkey: REDIS,
  valkeys: REDIS,
};

/**
 * Whether `text` is meant as a URL: it contains `://`, or starts with one of
 * {@link URL_SCHEMES} and a colon. Such a string is never taken as a path.
 */
export function looksLikeUrl(text: string): boolean {
  if (text.includes("://")) return true;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1];
  return scheme !== undefined && scheme.toLowerCase() in URL_SCHEMES;
}

/**
 * The target a URL names. Throws an {@link ArgumentError} for a scheme no
 * backend takes, a malformed URL, or a schema/namespace given twice with
 * different values.
 */
export function urlTarget(url: string, config: BrokerConfig, options: UrlTargetOptions = {}): BrokerTarget {
  const shown = redactTarget(url);
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):(\/\/)?/.exec(url);
  const scheme = match?.[1]?.toLowerCase() ?? "";
  const rule = URL_SCHEMES[scheme];
  if (!rule) {
    throw new ArgumentError(
      `Unsupported target URL '${shown}': a URL target must start with ${Object.keys(URL_SCHEMES)
        .map((s) => `${s}://`)
        .join(", ")} (a database file is given as a path, without a scheme)`,
    );
  }
  if (!match?.[2]) throw new ArgumentError(`Malformed target URL '${shown}': expected ${scheme}://host[:port]/…`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ArgumentError(`Malformed target URL '${shown}'`);
  }
  const keys = rule.store;
  const given = keys.map((key) => options[key]);
  for (const key of keys) given.push(parsed.searchParams.get(key) ?? undefined);
  const values = new Set(given.filter((v): v is string => v !== undefined));
  if (values.size > 1) {
    throw new ArgumentError(`Target URL '${shown}': ${keys.join("/")} given more than once with different values`);
  }
  const [name] = values;
  if (name !== undefined && name.trim() === "") throw new ArgumentError(`Target URL '${shown}': ${keys[0]} must not be empty`);
  const stripped = stripQuery(url, keys);
  const { target, backendOptions } = initBackend(rule.backend, config, stripped, name === undefined ? {} : { [keys[0]!]: name });
  return {
    backendName: rule.backend,
    target,
    backendOptions,
    projectRoot: null,
    configPath: null,
    usedProjectScope: false,
    legacySqlitePathMode: false,
  };
}

// --- internal ---

/** `url` without the query parameters `keys` (the rest of the text untouched, so the driver sees what the user wrote). */
function stripQuery(url: string, keys: readonly string[]): string {
  const q = url.indexOf("?");
  if (q === -1) return url;
  const hash = url.indexOf("#", q);
  const end = hash === -1 ? url.length : hash;
  const kept = url
    .slice(q + 1, end)
    .split("&")
    .filter((pair) => pair !== "" && !keys.includes(queryKey(pair)));
  return url.slice(0, q) + (kept.length ? `?${kept.join("&")}` : "") + url.slice(end);
}

function queryKey(pair: string): string {
  const raw = pair.split("=")[0]!.replace(/\+/g, " ");
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
