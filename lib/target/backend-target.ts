/**
 * Targets of backends whose store is not a local file (postgres, redis, or a
 * backend from outside), synthesised from the `BROKER_BACKEND*` variables or
 * a `.broker.toml` through the backend's own `resolveTarget`; the
 * known-backend check; password redaction for display.
 * @module
 */
import { backendDefinition, backendId, localFilesOf } from "../backends/index.ts";
import { resolveConfig } from "./config.ts";
import { ConfigError } from "../core/errors.ts";
import type { BrokerConfig, BrokerTarget } from "../core/types.ts";

export { redactTarget } from "../backends/redact.ts";
export { DEFAULT_PG_SCHEMA } from "../backends/postgres/target.ts";
export { DEFAULT_REDIS_NAMESPACE, DEFAULT_REDIS_TARGET } from "../backends/redis/target.ts";

/** Throw `Requested backend '<n>' is not available.` unless `name` is a known backend or a loadable backend module. */
export function requireKnownBackend(name: string, base?: string): void {
  backendDefinition(name, base);
}

/**
 * The target of a `BROKER_BACKEND` whose store is not a local file: from
 * `BROKER_BACKEND_TARGET` and the other `BROKER_BACKEND_*` variables, as
 * that backend resolves them (postgres: a DSN from the parts, `{ schema }`;
 * redis: `redis://127.0.0.1:6379/0` by default, `{ namespace }`). A module
 * specifier is taken from the working directory.
 */
export function envBackendTarget(config: BrokerConfig = resolveConfig(), root: string | null = null): BrokerTarget {
  if (localFilesOf(config.backend)) {
    throw new ConfigError(`BROKER_BACKEND is ${config.backend}: there is no backend target to synthesize`, {
      key: "BROKER_BACKEND",
    });
  }
  const { target, backendOptions } = initBackend(config.backend, config);
  return {
    backendName: backendId(config.backend),
    target,
    backendOptions,
    projectRoot: root,
    configPath: null,
    usedProjectScope: false,
    legacySqlitePathMode: false,
  };
}

/**
 * Target and options of backend `name`: `tomlTarget` (from `.broker.toml`)
 * beats `BROKER_BACKEND_TARGET`, and the TOML options are the backend's
 * options. Without a `resolveTarget` of its own the backend gets them as written.
 */
export function initBackend(
  name: string,
  config: BrokerConfig,
  tomlTarget = "",
  tomlOptions: Record<string, unknown> = {},
  base?: string,
): { target: string; backendOptions: Record<string, unknown> } {
  const definition = backendDefinition(name, base);
  if (definition.resolveTarget) return definition.resolveTarget({ config, target: tomlTarget, options: tomlOptions });
  return { target: tomlTarget.trim() || config.backendTarget.trim(), backendOptions: { ...tomlOptions } };
}
