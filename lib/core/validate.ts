/**
 * Input rules shared by every backend and the CLI: queue names (docs/compatibility.md#input-limits),
 * queue-name prefixes and message sizes. Globs live in lib/util/glob.ts.
 * @module
 */
import { ArgumentError, MessageError, QueueNameError } from "./errors.ts";

const PREFIX = /^[a-zA-Z0-9_.-]*$/;
const NAME_RULE = "must contain only letters, numbers, periods, underscores, and hyphens. Cannot begin with a hyphen or a period";

/** Throw {@link QueueNameError} unless `name` is a valid queue name (1–512 chars, `[A-Za-z0-9_][A-Za-z0-9_.-]*`). */
export function validateQueueName(name: string): void {
  if (name.length === 0) throw new QueueNameError("Invalid queue name: cannot be empty");
  if (name.length > 512) throw new QueueNameError("Invalid queue name: exceeds 512 characters");
  // A trailing newline is rejected; 3.6.1's re.match(...$) let one through (docs/compatibility.md#q4-trailing-newline-in-queue-names).
  // `[A-Za-z0-9_][A-Za-z0-9_.-]*` as a char-code loop: no regex compile on the path of every CLI call.
  for (let i = 0; i < name.length; i++) {
    if (!isNameChar(name.charCodeAt(i), i === 0)) throw new QueueNameError(`Invalid queue name: ${NAME_RULE}`);
  }
}

/** A letter, digit or `_`; after the first character also `.` and `-`. */
function isNameChar(c: number, first: boolean): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || (!first && (c === 46 || c === 45));
}

/** Throw unless `prefix` is a valid literal queue-name prefix (`list --prefix`). */
export function validateQueuePrefix(prefix: string): void {
  if (prefix.length > 512) throw new ArgumentError("Invalid queue prefix: exceeds 512 characters");
  if (!PREFIX.test(prefix) || prefix.startsWith(".") || prefix.startsWith("-")) {
    throw new ArgumentError(`Invalid queue prefix: ${NAME_RULE}`);
  }
}

/** UTF-8 byte length of a string without allocating a buffer. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Throw {@link MessageError} when the body is larger than `maxBytes` UTF-8 bytes. */
export function validateMessageSize(body: string, maxBytes: number): void {
  // Fast path: a UTF-16 string never needs more than 3 bytes per code unit.
  if (body.length * 3 <= maxBytes) return;
  const size = utf8Length(body);
  if (size > maxBytes) {
    throw new MessageError(
      `Message size (${size} bytes) exceeds maximum allowed size (${maxBytes} bytes). Adjust BROKER_MAX_MESSAGE_SIZE if needed.`,
    );
  }
}
