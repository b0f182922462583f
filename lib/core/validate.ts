/**
 * Input rules shared by every backend and the CLI: queue names (docs/compatibility.md#input-limits),
 * message sizes, and the fnmatch patterns of `list --pattern` / `broadcast`.
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

/** The literal text of an fnmatch pattern before its first wildcard. */
export function patternPrefix(pattern: string): string {
  const i = pattern.search(/[*?[]/);
  return i === -1 ? pattern : pattern.slice(0, i);
}

const patternCache = new Map<string, RegExp>();

/** Case-sensitive fnmatch (`*`, `?`, `[seq]`, `[!seq]`), as Python's `fnmatch.fnmatchcase`. */
export function fnmatch(name: string, pattern: string): boolean {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(`^${translatePattern(pattern)}$`, "s");
    patternCache.set(pattern, re);
  }
  return re.test(name);
}

/** One piece of an fnmatch pattern: `*`, `?`, a `[set]` / `[!set]`, or a literal character. */
export type FnmatchToken =
  | { kind: "any" }
  | { kind: "one" }
  | { kind: "set"; negate: boolean; body: string }
  | { kind: "char"; char: string };

/** Split an fnmatch pattern as Python's `fnmatch.translate` does (an unclosed `[` is a literal). */
export function* fnmatchTokens(pattern: string): Generator<FnmatchToken> {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") yield { kind: "any" };
    else if (c === "?") yield { kind: "one" };
    else if (c === "[") {
      let j = i + 1;
      if (pattern[j] === "!") j++;
      if (pattern[j] === "]") j++;
      while (j < pattern.length && pattern[j] !== "]") j++;
      if (j >= pattern.length) {
        yield { kind: "char", char: "[" };
        continue;
      }
      const raw = pattern.slice(i + 1, j);
      const negate = raw.startsWith("!");
      yield { kind: "set", negate, body: negate ? raw.slice(1) : raw };
      i = j;
    } else yield { kind: "char", char: c };
  }
}

// --- internal ---

function translatePattern(pattern: string): string {
  let out = "";
  for (const t of fnmatchTokens(pattern)) {
    if (t.kind === "any") out += ".*";
    else if (t.kind === "one") out += ".";
    else if (t.kind === "set") {
      const body = t.body.replace(/\\/g, "\\\\");
      out += `[${t.negate ? "^" : body.startsWith("^") ? "\\" : ""}${body}]`;
    } else out += t.char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return out;
}
