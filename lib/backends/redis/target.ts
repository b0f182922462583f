/**
 * The Redis backend's definition: its target from `.broker.toml` or
 * `BROKER_BACKEND_TARGET`, and a factory that loads the implementation on
 * first use (so resolving a target never loads the client code).
 * @module
 */
import { ConfigError } from "../../core/errors.ts";
import type { BackendDefinition } from "../../core/types.ts";

/** Redis target used when `BROKER_BACKEND_TARGET` is empty. */
export const DEFAULT_REDIS_TARGET = "redis://127.0.0.1:6379/0";
/** Redis key namespace used unless `.broker.toml` names one. */
export const DEFAULT_REDIS_NAMESPACE = "simplebroker_redis_v1";

/** The built-in `redis` backend (also accepted as `valkey`). */
export const redisDefinition: BackendDefinition = {
  name: "redis",
  /** The TOML target beats `BROKER_BACKEND_TARGET`; `namespace` (or its synonym `schema`) names the key space. */
  resolveTarget({ config, target, options }) {
    const explicit = target.trim() || config.backendTarget.trim();
    const rest = { ...options };
    if ("namespace" in rest && "schema" in rest && String(rest.namespace) !== String(rest.schema)) {
      throw new ConfigError("Redis namespace and schema options must match");
    }
    const namespace = String(rest.namespace ?? rest.schema ?? DEFAULT_REDIS_NAMESPACE);
    delete rest.schema;
    return { target: explicit || DEFAULT_REDIS_TARGET, backendOptions: { ...rest, namespace } };
  },
  async create(target, config) {
    const { createRedisBackend } = await import("./index.ts");
    return createRedisBackend({ url: target.target, options: target.backendOptions, config });
  },
};
