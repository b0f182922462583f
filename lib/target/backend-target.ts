/**
 * Targets of the network backends (postgres, redis) synthesised from the
 * `BROKER_BACKEND*` variables or a `.broker.toml`, the known-backend check and
 * password redaction for display (SPEC §5.3, §6.3, §7.2, §7.3).
 * @module
 */
import { BACKEND_NAMES } from "../backends/index.ts";
import { resolveConfig } from "./config.ts";
import { ConfigError } from "../core/errors.ts";
import type { BrokerConfig, BrokerTarget } from "../core/types.ts";

/** Postgres schema used when neither the env nor `.broker.toml` names one. */
export const DEFAULT_PG_SCHEMA = "simplebroker_pg_v1";
/** Redis target used when `BROKER_BACKEND_TARGET` is empty. */
export const DEFAULT_REDIS_TARGET = "redis://127.0.0.1:6379/0";
/** Redis key namespace used unless `.broker.toml` names one. */
export const DEFAULT_REDIS_NAMESPACE = "simplebroker_redis_v1";

/** Throw `Requested backend '<n>' is not available.` unless `name` is a known backend. */
export function requireKnownBackend(name: string): void {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(`Requested backend '${name}' is not available.`, { key: "BROKER_BACKEND" });
  }
}

/**
 * The target of a non-sqlite `BROKER_BACKEND`: postgres from
 * `BROKER_BACKEND_TARGET` or the host/port/user/password/database parts
 * (`backendOptions.schema`); redis from `BROKER_BACKEND_TARGET` or
 * `redis://127.0.0.1:6379/0` (`backendOptions.namespace`).
 */
export function envBackendTarget(config: BrokerConfig = resolveConfig(), root: string | null = null): BrokerTarget {
  if (config.backend === "sqlite") {
    throw new ConfigError("BROKER_BACKEND is sqlite: there is no backend target to synthesize", {
      key: "BROKER_BACKEND",
    });
  }
  requireKnownBackend(config.backend);
  const { target, backendOptions } = initBackend(config.backend, config);
  return {
    backendName: config.backend,
    target,
    backendOptions,
    projectRoot: root,
    configPath: null,
    usedProjectScope: false,
    legacySqlitePathMode: false,
  };
}

/** A target for display: `scheme://user:***@host…` and `password=***`. */
export function redactTarget(target: string): string {
  let out = target;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(out);
  if (scheme) {
    const rest = out.slice(scheme[0].length);
    const end = rest.search(/[/?#]/);
    const authority = end === -1 ? rest : rest.slice(0, end);
    const at = authority.lastIndexOf("@");
    const colon = authority.indexOf(":");
    if (at !== -1 && colon !== -1 && colon < at) {
      out = scheme[0] + authority.slice(0, colon) + ":***" + authority.slice(at) + rest.slice(authority.length);
    }
  }
  return out.replace(/\bpassword\s*=\s*(?:'(?:[^'\\]|\\.)*'|[^\s&]*)/gi, "password=***");
}

/**
 * Target and options for postgres/redis; `tomlTarget` (from `.broker.toml`)
 * beats `BROKER_BACKEND_TARGET`, and the TOML options own schema/namespace.
 */
export function initBackend(
  name: string,
  config: BrokerConfig,
  tomlTarget = "",
  tomlOptions: Record<string, unknown> = {},
): { target: string; backendOptions: Record<string, unknown> } {
  const explicit = tomlTarget.trim() || config.backendTarget.trim();
  if (name === "redis") {
    const options = { ...tomlOptions };
    if ("namespace" in options && "schema" in options && String(options.namespace) !== String(options.schema)) {
      throw new ConfigError("Redis namespace and schema options must match");
    }
    const namespace = String(options.namespace ?? options.schema ?? DEFAULT_REDIS_NAMESPACE);
    delete options.schema;
    return { target: explicit || DEFAULT_REDIS_TARGET, backendOptions: { ...options, namespace } };
  }
  const schema = String("schema" in tomlOptions ? tomlOptions.schema : tomlTarget ? DEFAULT_PG_SCHEMA : config.backendSchema);
  const password = config.backendPassword;
  if (explicit) return { target: withPassword(explicit, password), backendOptions: { schema } };
  const host = requireText(config.backendHost, "BROKER_BACKEND_HOST");
  const user = requireText(config.backendUser, "BROKER_BACKEND_USER");
  const database = requireText(config.backendDatabase, "BROKER_BACKEND_DATABASE");
  const port = config.backendPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError("BROKER_BACKEND_PORT must be an integer between 1 and 65535", { key: "BROKER_BACKEND_PORT" });
  }
  const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const auth = password ? `${pyQuote(user)}:${pyQuote(password)}` : pyQuote(user);
  return { target: `postgresql://${auth}@${hostPart}:${port}/${pyQuote(database)}`, backendOptions: { schema } };
}

// --- internal ---

/** Add `BROKER_BACKEND_PASSWORD` to a postgres target that carries none. */
function withPassword(target: string, password: string): string {
  if (!password) return target;
  const url = /^(postgres(?:ql)?:\/\/)([^/?#]*)(.*)$/s.exec(target);
  if (!url) {
    if (/\bpassword\s*=/i.test(target)) return target;
    return `${target} password='${password.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  }
  const [, scheme, authority = "", rest] = url;
  const at = authority.lastIndexOf("@");
  const userinfo = at === -1 ? "" : authority.slice(0, at);
  if (userinfo.includes(":")) return target;
  return `${scheme}${userinfo}:${pyQuote(password)}@${authority.slice(at + 1)}${rest}`;
}

function requireText(value: string, key: string): string {
  const text = value.trim();
  if (!text) throw new ConfigError(`${key} must be a non-empty string`, { key });
  return text;
}

/** Python `urllib.parse.quote(s, safe="")`. */
function pyQuote(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
