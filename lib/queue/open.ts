/**
 * Opening a {@link Broker} on a target given as a path, a directory, a
 * resolved target or nothing (the current directory's default target).
 * @module
 */
import { fs } from "../util/fs-lazy.ts";
import { resolve } from "../util/path.ts";
import { createBackend } from "../backends/index.ts";
import { resolveConfig } from "../target/config.ts";
import { targetForDirectory } from "../target/project.ts";
import { looksLikeUrl, urlTarget, type UrlTargetOptions } from "../target/url-target.ts";
import { ArgumentError } from "../core/errors.ts";
import type { BrokerConfig, BrokerTarget } from "../core/types.ts";
import { Broker } from "./broker.ts";

/** Options of {@link openBroker}; `schema` / `namespace` apply to a URL target only (docs/urls.md). */
export interface OpenBrokerOptions extends UrlTargetOptions {
  /** Overrides of the `BROKER_*` configuration (see `resolveConfig`). */
  config?: Partial<BrokerConfig> | Record<string, unknown>;
}

/**
 * Open a broker on a target: a directory or database path (string), a
 * `postgres://` / `redis://` / `valkey://` URL (docs/urls.md), a resolved
 * {@link BrokerTarget}, or nothing for the default target of the current
 * directory (no upward search).
 */
export async function openBroker(target?: string | BrokerTarget, options: OpenBrokerOptions = {}): Promise<Broker> {
  const config = resolveConfig(options.config);
  const url = typeof target === "string" && looksLikeUrl(target);
  if (!url && (options.schema !== undefined || options.namespace !== undefined)) {
    throw new ArgumentError("openBroker: schema and namespace apply to a postgres:// or redis:// URL target only");
  }
  const resolved = typeof target === "object" ? target : resolveTargetArg(target, config, options);
  return new Broker(await createBackend(resolved, config), config, resolved);
}

/**
 * A string target: a URL → that backend's target (anything else with `://`
 * is an error, never a path), an existing directory → its default target,
 * otherwise a database file path.
 */
export function resolveTargetArg(
  target: string | undefined,
  config: BrokerConfig,
  urlOptions: UrlTargetOptions = {},
): BrokerTarget {
  if (target === undefined || target === "") return targetForDirectory(config.defaultDbLocation || process.cwd(), config);
  if (looksLikeUrl(target)) return urlTarget(target, config, urlOptions);
  const abs = resolve(target);
  try {
    if (fs().statSync(abs).isDirectory()) return targetForDirectory(abs, config);
  } catch {
    // not there yet: a file path
  }
  return {
    backendName: "sqlite",
    target: abs,
    backendOptions: {},
    projectRoot: null,
    configPath: null,
    usedProjectScope: false,
    legacySqlitePathMode: false,
  };
}
