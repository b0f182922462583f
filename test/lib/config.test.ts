// Guards docs/compatibility.md#environment-variables: every BROKER_* variable's default and parse rule,
// override coercion, and a bad number as a ConfigError naming the key, not a crash (#q19-bad-configuration).
import { describe, expect, test } from "bun:test";
import { DEFAULT_CONFIG, resolveConfig, resolveConfigWithWarnings } from "../../lib/target/config.ts";
import { ConfigError } from "../../lib/core/errors.ts";
import type { BrokerConfig } from "../../lib/core/types.ts";

const DEFAULTS: BrokerConfig = {
  busyTimeout: 5000,
  cacheMb: 10,
  syncMode: "FULL",
  walAutocheckpoint: 1000,
  maxMessageSize: 10485760,
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
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("defaults", () => {
  test("an empty environment gives every default", () => {
    expect({ ...resolveConfig(undefined, {}) }).toEqual(DEFAULTS);
  });

  test("the result is frozen", () => {
    expect(Object.isFrozen(resolveConfig(undefined, {}))).toBe(true);
    expect(Object.isFrozen(resolveConfig({ busyTimeout: 1 }, {}))).toBe(true);
  });
});

describe("environment variables", () => {
  test.each<[string, string, Partial<BrokerConfig>]>([
    ["BROKER_BUSY_TIMEOUT", "250", { busyTimeout: 250 }],
    ["BROKER_BUSY_TIMEOUT", " 1_000 ", { busyTimeout: 1000 }],
    ["BROKER_CACHE_MB", "64", { cacheMb: 64 }],
    ["BROKER_SYNC_MODE", "normal", { syncMode: "NORMAL" }],
    ["BROKER_SYNC_MODE", "off", { syncMode: "OFF" }],
    ["BROKER_SYNC_MODE", "bogus", { syncMode: "FULL" }],
    ["BROKER_WAL_AUTOCHECKPOINT", "0", { walAutocheckpoint: 0 }],
    ["BROKER_WAL_AUTOCHECKPOINT", "-5", { walAutocheckpoint: 1000 }],
    ["BROKER_MAX_MESSAGE_SIZE", "8", { maxMessageSize: 8 }],
    ["BROKER_READ_COMMIT_INTERVAL", "5", { readCommitInterval: 5 }],
    ["BROKER_GENERATOR_BATCH_SIZE", "7", { generatorBatchSize: 7 }],
    ["BROKER_AUTO_VACUUM", "0", { autoVacuum: false }],
    ["BROKER_AUTO_VACUUM", "2", { autoVacuum: false }],
    ["BROKER_AUTO_VACUUM_INTERVAL", "3", { autoVacuumInterval: 3 }],
    ["BROKER_VACUUM_THRESHOLD", "25", { vacuumThreshold: 0.25 }],
    ["BROKER_VACUUM_THRESHOLD", "0.5", { vacuumThreshold: 0.005 }],
    ["BROKER_VACUUM_BATCH_SIZE", "50", { vacuumBatchSize: 50 }],
    ["BROKER_VACUUM_LOCK_TIMEOUT", "9", { vacuumLockTimeout: 9 }],
    ["BROKER_SKIP_IDLE_CHECK", "1", { skipIdleCheck: true }],
    ["BROKER_SKIP_IDLE_CHECK", "true", { skipIdleCheck: false }],
    ["BROKER_JITTER_FACTOR", "0.5", { jitterFactor: 0.5 }],
    ["BROKER_JITTER_FACTOR", "1e-1", { jitterFactor: 0.1 }],
    ["BROKER_INITIAL_CHECKS", "4", { initialChecks: 4 }],
    ["BROKER_MAX_INTERVAL", "2", { maxInterval: 2 }],
    ["BROKER_BURST_SLEEP", ".001", { burstSleep: 0.001 }],
    ["BROKER_DEBUG", "0", { debug: true }],
    ["BROKER_DEBUG", "", { debug: false }],
    ["BROKER_LOGGING_ENABLED", "1", { loggingEnabled: true }],
    ["BROKER_LOGGING_ENABLED", "yes", { loggingEnabled: false }],
    ["BROKER_DEFAULT_DB_LOCATION", "/srv/queues", { defaultDbLocation: "/srv/queues" }],
    ["BROKER_DEFAULT_DB_LOCATION", "relative/dir", { defaultDbLocation: "" }],
    ["BROKER_DEFAULT_DB_NAME", "queue.db", { defaultDbName: "queue.db" }],
    ["BROKER_DEFAULT_DB_NAME", "sub/queue.db", { defaultDbName: "sub/queue.db" }],
    ["BROKER_DEFAULT_DB_NAME", "", { defaultDbName: ".broker.db" }],
    ["BROKER_PROJECT_CONFIG_PATH", "conf", { projectConfigPath: "conf" }],
    ["BROKER_PROJECT_CONFIG_PATH", "/etc/broker", { projectConfigPath: "/etc/broker" }],
    ["BROKER_PROJECT_CONFIG_NAME", "broker.toml", { projectConfigName: "broker.toml" }],
    ["BROKER_PROJECT_SCOPE", "1", { projectScope: true }],
    ["BROKER_PROJECT_SCOPE", " TRUE ", { projectScope: true }],
    ["BROKER_PROJECT_SCOPE", "Yes", { projectScope: true }],
    ["BROKER_PROJECT_SCOPE", "on", { projectScope: true }],
    ["BROKER_PROJECT_SCOPE", "0", { projectScope: false }],
    ["BROKER_PROJECT_SCOPE", "enabled", { projectScope: false }],
    ["BROKER_BACKEND", "postgres", { backend: "postgres" }],
    ["BROKER_BACKEND_HOST", "db.local", { backendHost: "db.local" }],
    ["BROKER_BACKEND_PORT", "6543", { backendPort: 6543 }],
    ["BROKER_BACKEND_USER", "app", { backendUser: "app" }],
    ["BROKER_BACKEND_PASSWORD", "s3cret", { backendPassword: "s3cret" }],
    ["BROKER_BACKEND_DATABASE", "q", { backendDatabase: "q" }],
    ["BROKER_BACKEND_SCHEMA", "app_v1", { backendSchema: "app_v1" }],
    ["BROKER_BACKEND_TARGET", "postgresql://u@h/db", { backendTarget: "postgresql://u@h/db" }],
  ])("%s=%p", (name, value, expected) => {
    expect({ ...resolveConfig(undefined, { [name]: value }) }).toEqual({ ...DEFAULTS, ...expected });
  });
});

describe("invalid numbers (FIX Q19)", () => {
  test.each([
    ["BROKER_BUSY_TIMEOUT", "abc", "Invalid BROKER_BUSY_TIMEOUT 'abc': expected an integer"],
    ["BROKER_BUSY_TIMEOUT", "", "Invalid BROKER_BUSY_TIMEOUT '': expected an integer"],
    ["BROKER_CACHE_MB", "1.5", "Invalid BROKER_CACHE_MB '1.5': expected an integer"],
    ["BROKER_MAX_MESSAGE_SIZE", "10MB", "Invalid BROKER_MAX_MESSAGE_SIZE '10MB': expected an integer"],
    ["BROKER_AUTO_VACUUM", "yes", "Invalid BROKER_AUTO_VACUUM 'yes': expected an integer"],
    ["BROKER_BACKEND_PORT", "pg", "Invalid BROKER_BACKEND_PORT 'pg': expected an integer"],
    ["BROKER_JITTER_FACTOR", "lots", "Invalid BROKER_JITTER_FACTOR 'lots': expected a number"],
    ["BROKER_VACUUM_THRESHOLD", "10%", "Invalid BROKER_VACUUM_THRESHOLD '10%': expected a number"],
    ["BROKER_MAX_INTERVAL", "1..2", "Invalid BROKER_MAX_INTERVAL '1..2': expected a number"],
    ["BROKER_INITIAL_CHECKS", "1\n2", "Invalid BROKER_INITIAL_CHECKS '1\\x0a2': expected an integer"],
  ])("%s=%p", (name, value, message) => {
    const error = configError(() => resolveConfig(undefined, { [name]: value }));
    expect(error.message).toBe(message);
    expect(error.key).toBe(name);
  });
});

describe("overrides", () => {
  test.each<[Record<string, unknown>, Partial<BrokerConfig>]>([
    [{ busyTimeout: 100 }, { busyTimeout: 100 }],
    [{ BROKER_BUSY_TIMEOUT: "200" }, { busyTimeout: 200 }],
    [{ BROKER_BUSY_TIMEOUT: 300 }, { busyTimeout: 300 }],
    [{ syncMode: "normal" }, { syncMode: "NORMAL" }],
    [{ BROKER_SYNC_MODE: "nope" }, { syncMode: "FULL" }],
    [{ vacuumThreshold: 0.2 }, { vacuumThreshold: 0.2 }],
    [{ vacuumThreshold: 20 }, { vacuumThreshold: 0.2 }],
    [{ BROKER_VACUUM_THRESHOLD: "30" }, { vacuumThreshold: 0.3 }],
    [{ autoVacuum: false }, { autoVacuum: false }],
    [{ BROKER_AUTO_VACUUM: 0 }, { autoVacuum: false }],
    [{ skipIdleCheck: true }, { skipIdleCheck: true }],
    [{ BROKER_SKIP_IDLE_CHECK: 1 }, { skipIdleCheck: true }],
    [{ BROKER_LOGGING_ENABLED: "1" }, { loggingEnabled: true }],
    [{ BROKER_LOGGING_ENABLED: "true" }, { loggingEnabled: false }],
    [{ debug: true }, { debug: true }],
    [{ BROKER_DEBUG: "x" }, { debug: true }],
    [{ projectScope: true }, { projectScope: true }],
    [{ BROKER_PROJECT_SCOPE: "on" }, { projectScope: true }],
    [{ defaultDbName: "alt.db" }, { defaultDbName: "alt.db" }],
    [{ backend: "redis" }, { backend: "redis" }],
    [{ walAutocheckpoint: -1 }, { walAutocheckpoint: 1000 }],
    [{ busyTimeout: undefined, unknownKey: 5 }, {}],
  ])("%j", (overrides, expected) => {
    expect({ ...resolveConfig(overrides, {}) }).toEqual({ ...DEFAULTS, ...expected });
  });

  test("overrides beat the environment", () => {
    const config = resolveConfig({ cacheMb: 1 }, { BROKER_CACHE_MB: "99", BROKER_BUSY_TIMEOUT: "7" });
    expect(config.cacheMb).toBe(1);
    expect(config.busyTimeout).toBe(7);
  });

  test("an invalid override is a ConfigError", () => {
    const error = configError(() => resolveConfig({ busyTimeout: "soon" }, {}));
    expect(error.message).toBe("Invalid BROKER_BUSY_TIMEOUT 'soon': expected an integer");
    expect(error.key).toBe("BROKER_BUSY_TIMEOUT");
  });

  test("reads process.env by default and follows its changes", () => {
    process.env.BROKER_CACHE_MB = "42";
    try {
      expect(resolveConfig().cacheMb).toBe(42);
      process.env.BROKER_CACHE_MB = "43";
      expect(resolveConfig().cacheMb).toBe(43);
    } finally {
      delete process.env.BROKER_CACHE_MB;
    }
    expect(resolveConfig().cacheMb).toBe(10);
  });
});

describe("warnings", () => {
  test("negative WAL autocheckpoint", () => {
    const { config, warnings } = resolveConfigWithWarnings(undefined, { BROKER_WAL_AUTOCHECKPOINT: "-100" });
    expect(config.walAutocheckpoint).toBe(1000);
    expect(warnings).toEqual(["Invalid BROKER_WAL_AUTOCHECKPOINT '-100', must be >= 0. Using default of 1000."]);
  });

  test("relative BROKER_DEFAULT_DB_LOCATION is ignored with a warning", () => {
    const { config, warnings } = resolveConfigWithWarnings(undefined, { BROKER_DEFAULT_DB_LOCATION: "rel" });
    expect(config.defaultDbLocation).toBe("");
    expect(warnings).toEqual(["BROKER_DEFAULT_DB_LOCATION must be an absolute path. Ignoring relative path: rel"]);
  });

  test("a clean environment has none", () => {
    expect(resolveConfigWithWarnings(undefined, {}).warnings).toEqual([]);
  });
});

describe("path settings", () => {
  test.each([
    [
      "BROKER_DEFAULT_DB_NAME",
      "/abs/x.db",
      "BROKER_DEFAULT_DB_NAME must be a relative path, not absolute: /abs/x.db. Use BROKER_DEFAULT_DB_LOCATION to specify the directory instead.",
    ],
    [
      "BROKER_DEFAULT_DB_NAME",
      "a/b/c.db",
      "Database name must not contain nested directories: a/b/c.db. Only single directory level is supported (e.g., 'dir/name.db')",
    ],
    [
      "BROKER_DEFAULT_DB_NAME",
      "test|dir/broker.db",
      "BROKER_DEFAULT_DB_NAME validation failed: BROKER_DEFAULT_DB_NAME contains dangerous character '|': test|dir/broker.db. Path components must not contain shell metacharacters or control characters.",
    ],
    [
      "BROKER_DEFAULT_DB_NAME",
      "../up.db",
      "BROKER_DEFAULT_DB_NAME validation failed: BROKER_DEFAULT_DB_NAME must not contain parent directory references: ../up.db",
    ],
    [
      "BROKER_DEFAULT_DB_LOCATION",
      "/tmp/$HOME",
      "BROKER_DEFAULT_DB_LOCATION validation failed: BROKER_DEFAULT_DB_LOCATION contains dangerous character '$': /tmp/$HOME. Path components must not contain shell metacharacters or control characters.",
    ],
    [
      "BROKER_PROJECT_CONFIG_PATH",
      "a/b",
      "BROKER_PROJECT_CONFIG_PATH must be an absolute path or a single relative directory: a/b",
    ],
    [
      "BROKER_PROJECT_CONFIG_NAME",
      "/etc/broker.toml",
      "BROKER_PROJECT_CONFIG_NAME must be a relative path, not absolute: /etc/broker.toml. Use BROKER_PROJECT_CONFIG_PATH to specify the directory instead.",
    ],
    [
      "BROKER_PROJECT_CONFIG_NAME",
      "a/b/c.toml",
      "Project config name must not contain nested directories: a/b/c.toml. Only single directory level is supported (e.g., 'dir/broker.toml')",
    ],
  ])("%s=%p", (name, value, message) => {
    const error = configError(() => resolveConfig(undefined, { [name]: value }));
    expect(error.message).toBe(message);
    expect(error.key).toBe(name);
  });

  test("config path and name must not combine into nested directories", () => {
    const error = configError(() =>
      resolveConfig(undefined, { BROKER_PROJECT_CONFIG_PATH: "conf", BROKER_PROJECT_CONFIG_NAME: "sub/b.toml" }),
    );
    expect(error.message).toStartWith("BROKER_PROJECT_CONFIG_PATH and BROKER_PROJECT_CONFIG_NAME must not combine");
  });

  test("path settings given as overrides are validated too", () => {
    expect(() => resolveConfig({ defaultDbName: "/abs.db" }, {})).toThrow(ConfigError);
    const { config, warnings } = resolveConfigWithWarnings({ BROKER_DEFAULT_DB_LOCATION: "rel" }, {});
    expect(config.defaultDbLocation).toBe("");
    expect(warnings).toHaveLength(1);
  });
});

describe("DEFAULT_CONFIG fast path", () => {
  test("equals what the variable table yields, and is returned when no BROKER_* variable is set", () => {
    // A BROKER_* name that is not a setting forces the table-driven parse of every default.
    expect({ ...resolveConfig(undefined, { BROKER_NOT_A_SETTING: "x" }) }).toEqual({ ...DEFAULT_CONFIG });
    expect(resolveConfig(undefined, { PATH: "/bin" })).toBe(DEFAULT_CONFIG);
    expect(resolveConfig({ busyTimeout: 7 }, {}).busyTimeout).toBe(7);
    expect(DEFAULT_CONFIG.busyTimeout).toBe(5000);
  });
});
