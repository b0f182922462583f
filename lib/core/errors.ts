/**
 * Typed errors of the broker. Every failure the library raises is a
 * {@link BrokerError} with a stable `code`; the CLI turns the code into the
 * exit status and the JSON error form (`{"error": CODE, ...}`).
 * @module
 */

/** Stable error codes, as printed in `--json` error lines. */
export type BrokerErrorCode = "INVALID_ARGUMENT" | "INVALID_TIMESTAMP" | "INVALID_MESSAGE_ID" | "ERROR";

/** Base class of every error the broker raises on purpose. */
export class BrokerError extends Error {
  override name = "BrokerError";
  /** Stable machine-readable code (see {@link BrokerErrorCode}). */
  readonly code: BrokerErrorCode;
  /** True when retrying the same call may succeed (lock contention). */
  readonly retryable: boolean;
  constructor(message: string, options: { code?: BrokerErrorCode; cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? "ERROR";
    this.retryable = options.retryable ?? false;
  }
}

/**
 * A bad argument: queue name, message size, conflicting options. Its JSON
 * code is `ERROR`, as 3.6.1 prints for a ValueError, unless the caller says
 * `INVALID_ARGUMENT` (same source and destination, --move with --after).
 */
export class ArgumentError extends BrokerError {
  override name = "ArgumentError";
  constructor(message: string, options: { cause?: unknown; code?: "ERROR" | "INVALID_ARGUMENT" } = {}) {
    super(message, { cause: options.cause, code: options.code ?? "ERROR" });
  }
}

/** An invalid queue name (docs/compatibility.md#input-limits). */
export class QueueNameError extends ArgumentError {
  override name = "QueueNameError";
}

/** A message that is too large or not valid text. */
export class MessageError extends ArgumentError {
  override name = "MessageError";
}

/** An `--after` / `--before` value that cannot be parsed (docs/compatibility.md#timestamp-grammar). */
export class TimestampError extends BrokerError {
  override name = "TimestampError";
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, code: "INVALID_TIMESTAMP" });
  }
}

/** A `-m` message id that is not 19 digits or out of range (docs/compatibility.md#message-id-grammar). */
export class MessageIdError extends BrokerError {
  override name = "MessageIdError";
  constructor(message: string) {
    super(message, { code: "INVALID_MESSAGE_ID" });
  }
}

/** A configuration value (env var, `.broker.toml`, option) that is invalid. */
export class ConfigError extends BrokerError {
  override name = "ConfigError";
  /** The offending key, e.g. `BROKER_BUSY_TIMEOUT`, when known. */
  readonly key?: string;
  constructor(message: string, options: { key?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause, code: "ERROR" });
    this.key = options.key;
  }
}

/** A storage failure: unreadable file, wrong magic, newer schema, lock timeout. */
export class BackendError extends BrokerError {
  override name = "BackendError";
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, { ...options, code: "ERROR" });
  }
}

/** True for any {@link BrokerError}, also across duplicate module copies. */
export function isBrokerError(value: unknown): value is BrokerError {
  return (
    value instanceof BrokerError ||
    (typeof value === "object" &&
      value !== null &&
      typeof (value as { code?: unknown }).code === "string" &&
      (value as { name?: unknown }).name !== undefined &&
      "retryable" in value)
  );
}
