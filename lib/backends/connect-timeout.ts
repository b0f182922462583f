/**
 * `BROKER_BACKEND_CONNECT_TIMEOUT`: how long a network backend (postgres,
 * redis) may take to connect and answer, before the command fails with one
 * line naming the target.
 * @module
 */
import { ConfigError } from "../core/errors.ts";

/** The timeout in seconds, checked: a positive, finite number. */
export function connectTimeoutSeconds(value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`BROKER_BACKEND_CONNECT_TIMEOUT must be a positive number of seconds, got ${value}`, {
      key: "BROKER_BACKEND_CONNECT_TIMEOUT",
    });
  }
  return value;
}
