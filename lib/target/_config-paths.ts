/**
 * The rules 3.6.1 applies to the path settings after parsing them: the WAL
 * checkpoint floor, `BROKER_DEFAULT_DB_LOCATION` (absolute, else ignored with
 * a warning), `BROKER_DEFAULT_DB_NAME` and the project-config path and name
 * (relative, at most one directory level, safe characters).
 * @module
 */
import { isAbsolute } from "../util/path.ts";
import { ArgumentError, ConfigError } from "../core/errors.ts";
import { pathParts, validateSafePath } from "./paths.ts";
import type { BrokerConfig } from "../core/types.ts";

/** Post-parse rules of 3.6.1: WAL checkpoint floor and the path settings. Mutates `config`. */
export function finishConfig(config: BrokerConfig, warnings: string[]): void {
  if (config.walAutocheckpoint < 0) {
    warnings.push(`Invalid BROKER_WAL_AUTOCHECKPOINT '${config.walAutocheckpoint}', must be >= 0. Using default of 1000.`);
    config.walAutocheckpoint = 1000;
  }

  const location = config.defaultDbLocation;
  if (location) {
    safe(location, "BROKER_DEFAULT_DB_LOCATION");
    if (!isAbsolute(location)) {
      warnings.push(`BROKER_DEFAULT_DB_LOCATION must be an absolute path. Ignoring relative path: ${location}`);
      config.defaultDbLocation = "";
    }
  }

  const name = config.defaultDbName;
  safe(name, "BROKER_DEFAULT_DB_NAME");
  if (isAbsolute(name)) {
    fail(
      "BROKER_DEFAULT_DB_NAME",
      `BROKER_DEFAULT_DB_NAME must be a relative path, not absolute: ${name}. ` +
        "Use BROKER_DEFAULT_DB_LOCATION to specify the directory instead.",
    );
  }
  if (pathParts(name).length > 2) {
    fail(
      "BROKER_DEFAULT_DB_NAME",
      `Database name must not contain nested directories: ${name}. ` +
        "Only single directory level is supported (e.g., 'dir/name.db')",
    );
  }

  const configPath = config.projectConfigPath;
  const pathCount = configPath && !isAbsolute(configPath) ? pathParts(configPath.replaceAll("\\", "/")).length : 0;
  if (configPath) {
    safe(configPath, "BROKER_PROJECT_CONFIG_PATH");
    if (pathCount > 1) {
      fail(
        "BROKER_PROJECT_CONFIG_PATH",
        `BROKER_PROJECT_CONFIG_PATH must be an absolute path or a single relative directory: ${configPath}`,
      );
    }
  }

  const configName = config.projectConfigName;
  safe(configName, "BROKER_PROJECT_CONFIG_NAME");
  if (isAbsolute(configName)) {
    fail(
      "BROKER_PROJECT_CONFIG_NAME",
      `BROKER_PROJECT_CONFIG_NAME must be a relative path, not absolute: ${configName}. ` +
        "Use BROKER_PROJECT_CONFIG_PATH to specify the directory instead.",
    );
  }
  const nameCount = pathParts(configName.replaceAll("\\", "/")).length;
  if (nameCount > 2) {
    fail(
      "BROKER_PROJECT_CONFIG_NAME",
      `Project config name must not contain nested directories: ${configName}. ` +
        "Only single directory level is supported (e.g., 'dir/broker.toml')",
    );
  }
  if (pathCount + nameCount > 2) {
    fail(
      "BROKER_PROJECT_CONFIG_NAME",
      "BROKER_PROJECT_CONFIG_PATH and BROKER_PROJECT_CONFIG_NAME must not combine into nested directories. " +
        "Only single directory level is supported (e.g., 'dir/broker.toml')",
    );
  }
}

// --- internal ---

/** The safe-path check, reported as `<KEY> validation failed: <detail>`. */
function safe(value: string, key: string): void {
  try {
    validateSafePath(value, key);
  } catch (error) {
    if (!(error instanceof ArgumentError)) throw error;
    fail(key, `${key} validation failed: ${error.message}`, error);
  }
}

function fail(key: string, message: string, cause?: unknown): never {
  throw new ConfigError(message, { key, cause });
}
