/**
 * Where a broker lives: project discovery (`.broker.toml` and legacy upward
 * database search, docs/compatibility.md#project-scope) and library target resolution. Backend
 * targets from `BROKER_BACKEND*` and redaction live in `backend-target.ts`
 * and are re-exported here.
 * @module
 */
import { fs } from "../util/fs-lazy.ts";
import { dirname, isAbsolute, join, resolve } from "../util/path.ts";
import { backendId, DEFAULT_BACKEND, localFilesOf } from "../backends/index.ts";
import { isValidSimpleBrokerDb } from "../backends/sqlite/definition.ts";
import { envBackendTarget, initBackend, requireKnownBackend } from "./backend-target.ts";
import { resolveConfig } from "./config.ts";
import { ConfigError } from "../core/errors.ts";
import { pathParts, resolveLoose } from "./paths.ts";
import { assertTrustedProjectFile } from "./trust.ts";
import type { BrokerConfig, BrokerTarget } from "../core/types.ts";

export {
  DEFAULT_PG_SCHEMA,
  DEFAULT_REDIS_NAMESPACE,
  DEFAULT_REDIS_TARGET,
  envBackendTarget,
  redactTarget,
  requireKnownBackend,
} from "./backend-target.ts";
export { isValidSimpleBrokerDb, SIMPLEBROKER_MAGIC } from "../backends/sqlite/definition.ts";

/** Directory levels searched upward before giving up (3.6.1: 100). */
export const MAX_PROJECT_DEPTH = 100;

/** A validated `.broker.toml` (docs/compatibility.md#broker-toml). */
export interface ProjectConfig {
  /** A backend name or module specifier, as written. */
  backend: string;
  /** A local-file backend (SQLite): absolute path (relative targets are taken from the file's directory). Others: as written. */
  target: string;
  backendOptions: Record<string, unknown>;
  /** Absolute path of the file read. */
  configPath: string;
}

/** Where the project config of `dir` would be: `<dir>/[<PATH>/]<NAME>`, or `<PATH>/<NAME>` for an absolute PATH. */
export function projectConfigPathForDirectory(dir: string, config: BrokerConfig = resolveConfig()): string {
  const prefix = config.projectConfigPath;
  const name = config.projectConfigName;
  if (prefix && isAbsolute(prefix)) return resolveLoose(join(prefix, name));
  return resolveLoose(join(resolveLoose(dir), prefix, name));
}

/**
 * Search `start` and its parents (at most {@link MAX_PROJECT_DEPTH} levels,
 * the root included) for the project config file. With an absolute
 * `BROKER_PROJECT_CONFIG_PATH` only that one file is checked.
 */
export function findProjectConfig(start: string, config: BrokerConfig = resolveConfig()): string | null {
  if (config.projectConfigPath && isAbsolute(config.projectConfigPath)) {
    const only = projectConfigPathForDirectory(start, config);
    return isFile(only) ? only : null;
  }
  let dir = resolveLoose(start);
  for (let depth = 0; depth < MAX_PROJECT_DEPTH; depth++) {
    const candidate = projectConfigPathForDirectory(dir, config);
    if (isFile(candidate)) {
      assertTrustedProjectFile(candidate); // another user's file must not pick our target (docs/project-scope.md)
      return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
  return null;
}

/** Read and validate a `.broker.toml`; errors are {@link ConfigError}s with the 3.6.1 texts. */
export function loadProjectConfig(file: string): ProjectConfig {
  const configPath = resolveLoose(file);
  let text: string;
  try {
    text = fs().readFileSync(configPath, "utf8");
  } catch (error) {
    throw new ConfigError(`Cannot read ${configPath}: ${firstLine(error)}`, { cause: error });
  }
  let data: Record<string, unknown>;
  try {
    // Loaded on first use: the TOML parser (and node:stream under it) stays out of CLI start-up.
    const { parse: parseToml } = require("@iarna/toml") as typeof import("@iarna/toml");
    data = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`Invalid .broker.toml ${configPath}: ${firstLine(error)}`, { cause: error });
  }

  const { version, backend, target } = data;
  if (version !== 1 && version !== 1n) {
    throw new ConfigError(`Unsupported .broker.toml version ${pythonStr(version)}; expected 1`);
  }
  if (typeof backend !== "string" || backend === "") {
    throw new ConfigError(".broker.toml requires a non-empty string 'backend'");
  }
  if (typeof target !== "string" || target === "") {
    throw new ConfigError(".broker.toml requires a non-empty string 'target'");
  }
  const backendOptions = validOptions(data.backend_options ?? {});
  const resolvedTarget = localFilesOf(backend) ? resolveLoose(resolve(dirname(configPath), expandUser(target))) : target;
  return { backend, target: resolvedTarget, backendOptions, configPath };
}

/** The target a `.broker.toml` describes: the file owns backend, target and options; env adds secrets. */
export function projectConfigTarget(file: string, config: BrokerConfig = resolveConfig()): BrokerTarget {
  const project = loadProjectConfig(file);
  const base = dirname(project.configPath);
  requireKnownBackend(project.backend, base);
  const { target, backendOptions } = localFilesOf(project.backend)
    ? { target: project.target, backendOptions: project.backendOptions }
    : initBackend(project.backend, config, project.target, project.backendOptions, base);
  return {
    backendName: backendId(project.backend, base),
    target,
    backendOptions,
    projectRoot: dirname(project.configPath),
    configPath: project.configPath,
    usedProjectScope: true,
    legacySqlitePathMode: false,
  };
}

/**
 * Legacy project scope (docs/compatibility.md#project-scope): from `realpath(start)` upward, at most
 * {@link MAX_PROJECT_DEPTH} levels and never at the filesystem root, the first
 * `<dir>/<BROKER_DEFAULT_DB_NAME>` that is a valid SimpleBroker database.
 */
export function findProjectDatabase(start: string, config: BrokerConfig = resolveConfig()): string | null {
  let dir = resolveLoose(start);
  for (let depth = 0; depth < MAX_PROJECT_DEPTH; depth++) {
    const parent = dirname(dir);
    if (parent === dir) break;
    const candidate = join(dir, config.defaultDbName);
    if (isValidSimpleBrokerDb(candidate)) {
      assertTrustedProjectFile(candidate);
      return resolveLoose(candidate);
    }
    dir = parent;
  }
  return null;
}

/**
 * Upward discovery from `start` (default: cwd): project config file, then a
 * legacy database, then a `BROKER_BACKEND` whose store is not a local file;
 * null when none applies.
 */
export function resolveBrokerTarget(start: string = process.cwd(), config: BrokerConfig = resolveConfig()): BrokerTarget | null {
  const startDir = resolveLoose(start);
  const configFile = findProjectConfig(startDir, config);
  if (configFile) return projectConfigTarget(configFile, config);
  const db = findProjectDatabase(startDir, config);
  if (db) {
    let root = db;
    for (const _ of pathParts(config.defaultDbName)) root = dirname(root);
    return fileTarget(DEFAULT_BACKEND, db, root, true);
  }
  return localFilesOf(config.backend) ? null : envBackendTarget(config, startDir);
}

/**
 * Library resolution for an explicit directory (docs/compatibility.md#target-resolution), no upward search:
 * the project config exactly in `dir`, else a `BROKER_BACKEND` whose store is not a local file,
 * else `<dir>/<BROKER_DEFAULT_DB_NAME>`.
 */
export function targetForDirectory(dir: string, config: BrokerConfig = resolveConfig()): BrokerTarget {
  const root = resolveLoose(dir);
  const configFile = projectConfigPathForDirectory(root, config);
  if (isFile(configFile)) return projectConfigTarget(configFile, config);
  if (!localFilesOf(config.backend)) return envBackendTarget(config, root);
  return fileTarget(backendId(config.backend), resolveLoose(join(root, config.defaultDbName)), root, false);
}

// --- internal ---

function fileTarget(backendName: string, path: string, root: string | null, usedProjectScope: boolean): BrokerTarget {
  return {
    backendName,
    target: path,
    backendOptions: {},
    projectRoot: root,
    configPath: null,
    usedProjectScope,
    legacySqlitePathMode: true,
  };
}

function validOptions(raw: unknown): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || raw instanceof Date) {
    throw new ConfigError("'backend_options' must be a table in .broker.toml");
  }
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const scalar = ["string", "number", "boolean"].includes(typeof value);
    if (!scalar && typeof value !== "bigint") {
      throw new ConfigError("'backend_options' values must be strings, integers, floats, or booleans in .broker.toml");
    }
    options[key] = typeof value === "bigint" && Number.isSafeInteger(Number(value)) ? Number(value) : value;
  }
  return options;
}

function isFile(path: string): boolean {
  try {
    return fs().statSync(path).isFile();
  } catch {
    return false;
  }
}

function expandUser(path: string): string {
  return path === "~" || path.startsWith("~/")
    ? (process.env.HOME || (require("node:os") as typeof import("node:os")).homedir()) + path.slice(1)
    : path;
}

/** How Python's `str()` would print a parsed TOML value. */
function pythonStr(value: unknown): string {
  if (value === undefined || value === null) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  return String(value);
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split("\n")[0] ?? "").replace(/:$/, "");
}
