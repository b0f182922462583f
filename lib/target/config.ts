/**
 * The one reader of `BROKER_*` environment variables: builds a frozen
 * {@link BrokerConfig} from the environment plus overrides, with 3.6.1's
 * defaults and parse rules (docs/compatibility.md#environment-variables). A bad
 * value is a {@link ConfigError} naming the variable, not a crash
 * (docs/compatibility.md#q19-bad-configuration). The variable table and parsing
 * live in `_config-fields.ts`, the path-setting rules in `_config-paths.ts`.
 * @module
 */
import { ArgumentError } from "../core/errors.ts";
import type { BrokerConfig } from "../core/types.ts";
import { coerce, FIELDS, fieldByName } from "./_config-fields.ts";
import { finishConfig } from "./_config-paths.ts";

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
 * The defaults of every `BROKER_*` variable, as the field table yields them for an environment
 * without `BROKER_*` variables (a test checks the two agree). Returned as is
 * in that common case, so a CLI call does not parse 36 defaults at start-up.
 */
export const DEFAULT_CONFIG: Readonly<BrokerConfig> = Object.freeze({
  busyTimeout: 5000,
  cacheMb: 10,
  syncMode: "FULL",
  walAutocheckpoint: 1000,
  maxMessageSize: 10_485_760,
  readCommitInterval: 1,
  generatorBatchSize: 100,
  autoVacuum: true,
  autoVacuumInterval: 100,
  vacuumThreshold: 0.1,
  vacuumBatchSize: 1000,
  vacuumLockTimeout: 300,
  skipIdleCheck: false,
  jitterFactor: 0.15,
  initialChecks: 100,
  maxInterval: 0.1,
  burstSleep: 0.00001,
  debug: false,
  loggingEnabled: false,
  defaultDbLocation: "",
  defaultDbName: ".broker.db",
  projectConfigPath: "",
  projectConfigName: ".broker.toml",
  projectScope: false,
  backend: "sqlite",
  backendHost: "localhost",
  backendPort: 5432,
  backendUser: "postgres",
  backendPassword: "",
  backendDatabase: "simplebroker",
  backendSchema: "simplebroker_pg_v1",
  backendTarget: "",
  backendConnectTimeout: 5,
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
