/**
 * The table of `BROKER_*` variables and how each one's text (or a typed
 * override) becomes a config value, with 3.6.1's defaults and parse rules
 * (docs/compatibility.md#environment-variables). A value that cannot be parsed
 * is a {@link ConfigError} naming the variable, never a crash
 * (docs/compatibility.md#q19-bad-configuration).
 * @module
 */
import { ConfigError } from "../core/errors.ts";
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

/** One configuration setting: its key, its variable, how it is parsed and its default. */
export interface Field {
  key: keyof BrokerConfig;
  env: string;
  kind: Kind;
  /** The default, written as the environment would spell it. */
  def: string;
}

/** Every `BROKER_*` variable 3.6.1 reads, in the order of the table in docs/compatibility.md. */
export const FIELDS: readonly Field[] = [
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
  { key: "backendConnectTimeout", env: "BROKER_BACKEND_CONNECT_TIMEOUT", kind: "float", def: "5" },
];

let fieldIndex: Map<string, Field> | undefined;

/** A field by camelCase key or `BROKER_*` name. Built on first use: the common CLI call never needs it. */
export function fieldByName(name: string): Field | undefined {
  if (!fieldIndex) {
    fieldIndex = new Map();
    for (const f of FIELDS) fieldIndex.set(f.key, f).set(f.env, f);
  }
  return fieldIndex.get(name);
}

/** Where a value came from: environment text, or a typed override from a library caller. */
export type Source = "env" | "override";

/** Parse one value of `field`; throws {@link ConfigError} for a number that does not parse. */
export function coerce(field: Field, value: unknown, source: Source): unknown {
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

// --- internal ---

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
  // Control characters are shown escaped, so the error stays one line.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  const shown = String(value).replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return new ConfigError(`Invalid ${field.env} '${shown}': expected ${expected}`, { key: field.env });
}
