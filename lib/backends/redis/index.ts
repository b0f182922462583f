import { ConfigError } from "../../errors.ts";
import type { Backend, BrokerConfig } from "../../types.ts";

/** Options of the Redis backend. */
export interface RedisBackendOptions {
  url: string;
  options: Record<string, unknown>;
  config: BrokerConfig;
}

/** Placeholder until the Redis backend lands (issue 8). */
export function createRedisBackend(_opts: RedisBackendOptions): Backend {
  throw new ConfigError("Requested backend 'redis' is not available yet.");
}
