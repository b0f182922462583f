/**
 * The Redis backend's definition: its target from `.broker.toml`,
 * `BROKER_BACKEND_TARGET` or the `BROKER_BACKEND_HOST/PORT/USER/PASSWORD/
 * DATABASE/SCHEMA` parts, and a factory that loads the implementation on
 * first use (so resolving a target never loads the client code).
 * @module
 */
import { ConfigError } from "../../core/errors.ts";
import type { BackendDefinition, BrokerConfig } from "../../core/types.ts";

/** Redis target used when `BROKER_BACKEND_TARGET` is empty. */
export const DEFAULT_REDIS_TARGET = "redis://127.0.0.1:6379/0";
/** Redis key namespace used unless `.broker.toml` names one. */
export const DEFAULT_REDIS_NAMESPACE = "simplebroker_redis_v1";

/** The built-in `redis` backend (also accepted as `valkey`). */
export const redisDefinition: BackendDefinition = {
  name: "redis",
  /**
   * The TOML target beats `BROKER_BACKEND_TARGET`, which beats a URL built from
   * the parts; `namespace` (or its synonym `schema`) in the TOML options names
   * the key space, else `BROKER_BACKEND_SCHEMA` when set for an env target.
   */
  resolveTarget({ config, target, options }) {
    const explicit = target.trim() || config.backendTarget.trim();
    const rest = { ...options };
    if ("namespace" in rest && "schema" in rest && String(rest.namespace) !== String(rest.schema)) {
      throw new ConfigError("Redis namespace and schema options must match");
    }
    const envSchema = !target.trim() && config.backendSchema !== PG_DEFAULTS.schema ? config.backendSchema : undefined;
    const namespace = String(rest.namespace ?? rest.schema ?? envSchema ?? DEFAULT_REDIS_NAMESPACE);
    delete rest.schema;
    return { target: explicit || redisTargetFromParts(config), backendOptions: { ...rest, namespace } };
  },
  async create(target, config) {
    const { createRedisBackend } = await import("./index.ts");
    return createRedisBackend({ url: target.target, options: target.backendOptions, config });
  },
};

/**
 * The BROKER_BACKEND_* defaults, which are PostgreSQL's. A part left at its
 * default takes Redis's instead (127.0.0.1, port 6379, no user, database 0).
 */
const PG_DEFAULTS = { host: "localhost", port: 5432, user: "postgres", database: "simplebroker", schema: "simplebroker_pg_v1" };

/**
 * `redis://[user@]host:port/db` from BROKER_BACKEND_HOST/PORT/USER/DATABASE
 * (the password is added by the connection, so it never appears in a shown
 * target); {@link DEFAULT_REDIS_TARGET} when none is set.
 */
export function redisTargetFromParts(config: BrokerConfig): string {
  const host = config.backendHost.trim();
  const { backendPort: port, backendUser: user } = config;
  const database = config.backendDatabase.trim();
  const unset =
    host === PG_DEFAULTS.host && port === PG_DEFAULTS.port && user === PG_DEFAULTS.user && database === PG_DEFAULTS.database;
  if (unset) return DEFAULT_REDIS_TARGET;
  if (host === "") throw new ConfigError("BROKER_BACKEND_HOST must be a non-empty string", { key: "BROKER_BACKEND_HOST" });
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError("BROKER_BACKEND_PORT must be an integer between 1 and 65535", { key: "BROKER_BACKEND_PORT" });
  }
  const db = database === PG_DEFAULTS.database ? "0" : database;
  if (!/^\d+$/.test(db)) {
    throw new ConfigError(`BROKER_BACKEND_DATABASE must be a Redis database number for the redis backend, got '${database}'`, {
      key: "BROKER_BACKEND_DATABASE",
    });
  }
  const hostPart = host === PG_DEFAULTS.host ? "127.0.0.1" : host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const userPart = user === PG_DEFAULTS.user || user === "" ? "" : `${encodeURIComponent(user)}@`;
  return `redis://${userPart}${hostPart}:${port === PG_DEFAULTS.port ? 6379 : port}/${Number(db)}`;
}
