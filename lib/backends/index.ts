/**
 * The one place that knows the backends: `sqlite` (built in, the default),
 * `postgres` (Bun.SQL) and `redis` (Bun's RedisClient), loaded lazily.
 * @module
 */
import { ConfigError } from "../core/errors.ts";
import type { Backend, BrokerConfig, BrokerTarget } from "../core/types.ts";

/** Names accepted in `BROKER_BACKEND` and `.broker.toml`. */
export const BACKEND_NAMES = ["sqlite", "postgres", "redis"] as const;

/** Create the backend for a resolved target. Connections open lazily on first use. */
export async function createBackend(target: BrokerTarget, config: BrokerConfig): Promise<Backend> {
  switch (target.backendName) {
    case "sqlite": {
      const { createSqliteBackend } = await import("./sqlite/index.ts");
      return createSqliteBackend(target.target, config);
    }
    case "postgres":
    case "postgresql": {
      const { createPostgresBackend } = await import("./postgres/index.ts");
      return createPostgresBackend({ url: target.target, options: target.backendOptions, config });
    }
    case "redis":
    case "valkey": {
      const { createRedisBackend } = await import("./redis/index.ts");
      return createRedisBackend({ url: target.target, options: target.backendOptions, config });
    }
    default:
      throw new ConfigError(
        `Requested backend '${target.backendName}' is not available. Valid backends: ${BACKEND_NAMES.join(", ")}.`,
        { key: "BROKER_BACKEND" },
      );
  }
}
