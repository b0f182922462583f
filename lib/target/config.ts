/**
 * The one reader of `BROKER_*` environment variables (SPEC §5.1). Builds a
 * frozen {@link BrokerConfig} from the environment plus overrides, with the
 * 3.6.1 defaults and parse rules; invalid numbers are a {@link ConfigError}
 * (FIX Q19) instead of a crash.
 * @module
 */
import { isAbsolute } from "../util/posix-path.ts";
import { ArgumentError, ConfigError } from "../core/errors.ts";
import { pathParts, validateSafePath } from "./paths.ts";
import type { BrokerConfig, SyncMode } from "../core/types.ts";

/** How a variable's text (or an override value) becomes a config value. */
type Kind =
  | "int" // Python int(): optional sign, digits, `_` separators
  | "float" // Python float()
  | "str"
  | "nonEmptyStr" // "" falls back to the default
  | "sync" // upper-cased; anything but FULL/NORMAL/OFF is FULL
  | "flagOne" // env: exactly "1"; overrides: true, 1 or "1"
  | "intFlag" // an int where 1 means enabled (BROKER_AUTO_VACUUM)
  | "debug" // env: any non-empty text
  | "scope" // 1/true/yes/on, case-insensitive, trimmed
  | "threshold"; // env percent → fraction

interface Field {
  key: keyof BrokerConfig;
  env: string;
  kind: Kind;
  /** The default, written as the environment would spell it. */
  def: string;
}

/** Every variable of SPEC §5.1, in table order. */
const FIELDS: readonly Field[] = [
  { key: "busyTimeout", env: "BROKER_BUSY_TIMEOUT", kind: "int", def: "5000" },
  { key: "cacheMb", env: "BROKER_CACHE_MB", kind: "int", def: "10" },
  { key: "syncMode", env: "BROKER_SYNC_MODE", kind: "sync", def: "FULL" },
  { key: "walAutocheckpoint", env: "BROKER_WAL_AUTOCHECKPOINT", kind: "int", def: "1000" },
  { key: "maxMessageSize", env: "BROKER_MAX_MESSAGE_SIZE", kind: "int", def: "10485760" },
  { key: "readCommitInterval", env: "BROKER_READ_COMMIT_INTERVAL", kind: "int", def: "1" },
  { key: "generatorBatchSize", env: "BROKER_GENERATOR_BATCH_SIZE", kind: "int", def: "100" },
  { key: "autoVacuum", env: "BROKER_AUTO_VACUUM", kind: "intFlag", def: "1" },
  { key: "autoVacuumInterval", env: "BROKER_AUTO_VACUUM_INTERVAL", kind: "int", def: "100" },
  { key: "vacuumThreshold", env: "BROKER_VACUUM_THRESHOLD", kind: "threshold", def: "10" },
  { key: "vacuumBatchSize", env: "BROKER_VACUUM_BATCH_SIZE", kind: "int", def: "1000" },
  { key: "vacuumLockTimeout", env: "BROKER_VACUUM_LOCK_TIMEOUT", kind: "int", def: "300" },
  { key: "skipIdleCheck", env: "BROKER_SKIP_IDLE_CHECK", kind: "flagOne", def: "0" },
  { key: "jitterFactor", env: "BROKER_JITTER_FACTOR", kind: "float", def: "0.15" },
  { key: "initialChecks", env: "BROKER_INITIAL_CHECKS", kind: "int", def: "100" },
  { key: "maxInterval", env: "BROKER_MAX_INTERVAL", kind: "float", def: "0.1" },
  { key: "burstSleep", env: "BROKER_BURST_SLEEP", kind: "float", def: "0.00001" },
  { key: "debug", env: "BROKER_DEBUG", kind: "debug", def: "" },
  { key: "loggingEnabled", env: "BROKER_LOGGING_ENABLED", kind: "flagOne", def: "0" },
  { key: "defaultDbLocation", env: "BROKER_DEFAULT_DB_LOCATION", kind: "str", def: "" },
  { key: "defaultDbName", env: "BROKER_DEFAULT_DB_NAME", kind: "nonEmptyStr", def: ".broker.db" },
  { key: "projectConfigPath", env: "BROKER_PROJECT_CONFIG_PATH", kind: "str", def: "" },
  { key: "projectConfigName", env: "BROKER_PROJECT_CONFIG_NAME", kind: "nonEmptyStr", def: ".broker.toml" },
  { key: "projectScope", env: "BROKER_PROJECT_SCOPE", kind: "scope", def: "0" },
  { key: "backend", env: "BROKER_BACKEND", kind: "nonEmptyStr", def: "sqlite" },
  { key: "backendHost", env: "BROKER_BACKEND_HOST", kind: "str", def: "localhost" },
  { key: "backendPort", env: "BROKER_BACKEND_PORT", kind: "int", def: "5432" },
  { key: "backendUser", env: "BROKER_BACKEND_USER", kind: "str", def: "postgres" },
  { key: "backendPassword", env: "BROKER_BACKEND_PASSWORD", kind: "str", def: "" },
  { key: "backendDatabase", env: "BROKER_BACKEND_DATABASE", kind: "str", def: "simplebroker" },
  { key: "backendSchema", env: "BROKER_BACKEND_SCHEMA", kind: "str", def: "simplebroker_pg_v1" },
  { key: "backendTarget", env: "BROKER_BACKEND_TARGET", kind: "str", def: "" },
];

let fieldIndex: Map<string, Field> | undefined;

/** A field by camelCase key or `BROKER_*` name. Built on first use: the common CLI call never needs it. */
function fieldByName(name: string): Field | undefined {
  if (!fieldIndex) {
    fieldIndex = new Map();
    for (const f of FIELDS) fieldIndex.set(f.key, f).set(f.env, f);
  }
  return fieldIndex.get(name);
}

/** Overrides: camelCase keys of {@link BrokerConfig} or the `BROKER_*` names. Unknown keys are ignored. */
export type ConfigOverrides = Partial<BrokerConfig> | Record<string, unknown>;

/** A resolved configuration and the warnings 3.6.1 would have printed while building it. */
export interface ResolvedConfigResult {
  config: Readonly<BrokerConfig>;
  /** E.g. `BROKER_DEFAULT_DB_LOCATION must be an absolute path. Ignoring relative path: rel`. */
  warnings: string[];
}

/**
 * Resolve the configuration from `env` (default `process.env`) plus
 * `overrides`, returning the warnings too. Throws {@link ConfigError} (with
 * `key`) for an invalid number or an invalid path setting.
 */
export function resolveConfigWithWarnings(
  overrides?: ConfigOverrides,
  env: Record<string, string | undefined> = process.env,
): ResolvedConfigResult {
  const base = loadEnvConfig(env);
  const entries: [string, unknown][] = [];
  // A loop, not Object.entries(...).filter: every CLI call passes here once (see cli/argv.ts).
  for (const [name, value] of Object.entries(overrides ?? {})) if (value !== undefined) entries.push([name, value]);
  if (entries.length === 0) return { config: base.config, warnings: [...base.warnings] };

  const values: Record<string, unknown> = { ...base.config };
  for (const [name, value] of entries) {
    const field = fieldByName(name);
    if (field) values[field.key] = coerce(field, value, "override");
  }
  const config = values as unknown as BrokerConfig;
  const warnings = [...base.warnings];
  finishConfig(config, warnings);
  return { config: Object.freeze(config), warnings };
}

/** {@link resolveConfigWithWarnings} without the warnings. */
export function resolveConfig(
  overrides?: ConfigOverrides,
  env: Record<string, string | undefined> = process.env,
): Readonly<BrokerConfig> {
  return resolveConfigWithWarnings(overrides, env).config;
}

/** The environment variable name of a config key, e.g. `busyTimeout` → `BROKER_BUSY_TIMEOUT`. */
export function envNameOf(key: keyof BrokerConfig): string {
  const field = fieldByName(key);
  if (!field) throw new ArgumentError(`Unknown configuration key: ${key}`);
  return field.env;
}

// --- internal ---

/** Last env snapshot parsed, keyed by the values of every known variable. */
let cached: { key: string; result: ResolvedConfigResult } | undefined;

/**
 * The defaults of SPEC §5.1, as {@link FIELDS} yields them for an environment
 * without `BROKER_*` variables (a test checks the two agree). Returned as is
 * in that common case, so a CLI call does not parse 36 defaults at start-up.
 */
export const DEFAULT_CONFIG: Readonly<BrokerConfig> = Object.freeze({
  busyTimeout: 5000, cacheMb: 10, syncMode: "FULL", walAutocheckpoint: 1000, maxMessageSize: 10_485_760,
  readCommitInterval: 1, generatorBatchSize: 100, autoVacuum: true, autoVacuumInterval: 100, vacuumThreshold: 0.1,
  vacuumBatchSize: 1000, vacuumLockTimeout: 300, skipIdleCheck: false, jitterFactor: 0.15, initialChecks: 100,
  maxInterval: 0.1, burstSleep: 0.00001, debug: false, loggingEnabled: false, defaultDbLocation: "",
  defaultDbName: ".broker.db", projectConfigPath: "", projectConfigName: ".broker.toml", projectScope: false,
  backend: "sqlite", backendHost: "localhost", backendPort: 5432, backendUser: "postgres", backendPassword: "",
  backendDatabase: "simplebroker", backendSchema: "simplebroker_pg_v1", backendTarget: "",
});
const DEFAULT_RESULT: ResolvedConfigResult = Object.freeze({ config: DEFAULT_CONFIG, warnings: [] });

function loadEnvConfig(env: Record<string, string | undefined>): ResolvedConfigResult {
  // Only the known names matter; looking them up is cheaper than enumerating process.env.
  let any = false;
  for (const field of FIELDS) {
    if (env[field.env] !== undefined) {
      any = true;
      break;
    }
  }
  if (!any) return DEFAULT_RESULT;
  const key = JSON.stringify(FIELDS.map((f) => env[f.env] ?? null));
  if (cached?.key === key) return cached.result;
  const values: Record<string, unknown> = {};
  for (const field of FIELDS) values[field.key] = coerce(field, env[field.env] ?? field.def, "env");
  const config = values as unknown as BrokerConfig;
  const warnings: string[] = [];
  finishConfig(config, warnings);
  const result = { config: Object.freeze(config), warnings };
  cached = { key, result };
  return result;
}

type Source = "env" | "override";

function coerce(field: Field, value: unknown, source: Source): unknown {
  const text = typeof value === "string" ? value : undefined;
  switch (field.kind) {
    case "int":
      return toInt(field, value);
    case "float":
      return toFloat(field, value);
    case "str":
      return String(value);
    case "nonEmptyStr":
      return String(value) === "" ? field.def : String(value);
    case "sync": {
      const mode = String(value).toUpperCase();
      return (["FULL", "NORMAL", "OFF"].includes(mode) ? mode : "FULL") as SyncMode;
    }
    case "flagOne":
      if (typeof value === "boolean") return value;
      if (typeof value === "number" || typeof value === "bigint") return Number(value) === 1;
      return String(value) === "1";
    case "intFlag":
      return toInt(field, value) === 1;
    case "debug":
      if (source === "env" || text !== undefined) return String(value) !== "";
      return Boolean(value);
    case "scope":
      if (typeof value === "boolean") return value;
      return ["1", "true", "yes", "on"].includes(String(value).toLowerCase().trim());
    case "threshold": {
      // Text is always a percentage; a typed number above 1 is one too, else a fraction.
      const n = toFloat(field, value);
      return text !== undefined || n > 1 ? n / 100 : n;
    }
  }
}

const INT_RE = /^[+-]?\d+(?:_\d+)*$/;
const FLOAT_RE = /^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?$/;
const FLOAT_WORDS: Record<string, number> = { inf: Infinity, infinity: Infinity, nan: NaN };

function toInt(field: Field, value: unknown): number {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number" && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === "string" && INT_RE.test(value.trim())) return Number(value.trim().replaceAll("_", ""));
  throw invalid(field, value, "an integer");
}

function toFloat(field: Field, value: unknown): number {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number" || typeof value === "bigint") return Number(value);
  if (typeof value === "string") {
    const t = value.trim();
    const sign = t.startsWith("-") ? -1 : 1;
    const word = FLOAT_WORDS[t.replace(/^[+-]/, "").toLowerCase()];
    if (word !== undefined) return sign * word;
    if (FLOAT_RE.test(t)) return Number(t.replaceAll("_", ""));
  }
  throw invalid(field, value, "a number");
}

function invalid(field: Field, value: unknown, expected: string): ConfigError {
  const shown = String(value).replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return new ConfigError(`Invalid ${field.env} '${shown}': expected ${expected}`, { key: field.env });
}

/** Post-parse rules of 3.6.1: WAL checkpoint floor and the path settings. Mutates `config`. */
function finishConfig(config: BrokerConfig, warnings: string[]): void {
  if (config.walAutocheckpoint < 0) {
    warnings.push(
      `Invalid BROKER_WAL_AUTOCHECKPOINT '${config.walAutocheckpoint}', must be >= 0. Using default of 1000.`,
    );
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
