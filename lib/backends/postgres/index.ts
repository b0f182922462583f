import { ConfigError } from "../../errors.ts";
import type { Backend, BrokerConfig } from "../../types.ts";

/** Options of the PostgreSQL backend. */
export interface PostgresBackendOptions {
  url: string;
  options: Record<string, unknown>;
  config: BrokerConfig;
}

/** Placeholder until the Postgres backend lands (issue 5). */
export function createPostgresBackend(_opts: PostgresBackendOptions): Backend {
  throw new ConfigError("Requested backend 'postgres' is not available yet.");
}
