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
import type { BrokerConfig, BrokerTarget } from "../core/types.ts";
import { Broker } from "./broker.ts";

/** Options of {@link openBroker}. */
export interface OpenBrokerOptions {
  /** Overrides of the `BROKER_*` configuration (see `resolveConfig`). */
  config?: Partial<BrokerConfig> | Record<string, unknown>;
}

/**
 * Open a broker on a target: a directory or database path (string), a
 * resolved {@link BrokerTarget}, or nothing for the default target of the
 * current directory (no upward search).
 */
export async function openBroker(target?: string | BrokerTarget, options: OpenBrokerOptions = {}): Promise<Broker> {
  const config = resolveConfig(options.config);
  const resolved = typeof target === "object" ? target : resolveTargetArg(target, config);
  return new Broker(await createBackend(resolved, config), config, resolved);
}

/** A string target: an existing directory → its default target, otherwise a database file path. */
export function resolveTargetArg(target: string | undefined, config: BrokerConfig): BrokerTarget {
  if (target === undefined || target === "") return targetForDirectory(config.defaultDbLocation || process.cwd(), config);
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
