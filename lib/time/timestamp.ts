/**
 * Hybrid timestamps (message ids) and the grammars of `--after` / `--before`
 * bounds and `-m` message ids (docs/on-disk-format.md#message-ids, docs/compatibility.md#timestamp-grammar).
 *
 * An id is `(unixNs & ~0xFFF) | counter`: wall-clock nanoseconds rounded down
 * to a 4096 ns grain, with a 12-bit logical counter in the low bits.
 * @module
 */
import { parseIsoMicros } from "./iso8601.ts";
import { MessageIdError, TimestampError } from "../core/errors.ts";

const COUNTER_MASK = 0xfffn;
const BASE_MASK = ~COUNTER_MASK;
const GRAIN = 0x1000n;
const MAX_COUNTER = 4095;
const INT64_LIMIT = 1n << 63n;
/** Integers at or above 2^44 are native ids; below it, Unix seconds or ms. */
const NATIVE_BOUNDARY = 1n << 44n;
const MESSAGE_ID_RE = /^[0-9]{19}$/;

/** Packs wall-clock nanoseconds and a 12-bit counter into one id (docs/on-disk-format.md#message-ids). */
export function encodeHybridTimestamp(physicalNs: bigint, counter: number): bigint {
  if (!Number.isInteger(counter) || counter < 0 || counter > MAX_COUNTER) {
    throw new RangeError(`hybrid timestamp counter must be an integer in 0..${MAX_COUNTER}, got ${counter}`);
  }
  return (physicalNs & BASE_MASK) | BigInt(counter);
}

/** Splits an id into its 4096 ns-aligned physical part, counter and wall-clock date. */
export function decodeHybridTimestamp(ts: bigint): { physicalNs: bigint; counter: number; date: Date } {
  const physicalNs = ts & BASE_MASK;
  const ms = physicalNs / 1_000_000n - (physicalNs < 0n && physicalNs % 1_000_000n !== 0n ? 1n : 0n);
  return { physicalNs, counter: Number(ts & COUNTER_MASK), date: new Date(Number(ms)) };
}

/**
 * The id that follows `lastTs` at wall time `nowNs`, by the hybrid-logical-clock
 * max-rule (docs/on-disk-format.md#id-generation): a newer grain restarts the counter at 0; otherwise the
 * counter of `lastTs` goes up by one, carrying into the next grain after 4095.
 * The result is always greater than `lastTs`.
 */
export function nextHybridTimestamp(lastTs: bigint, nowNs: bigint): bigint {
  const lastBase = lastTs & BASE_MASK;
  const nowBase = nowNs & BASE_MASK;
  let next: bigint;
  if (nowBase > lastBase) next = nowBase;
  else if ((lastTs & COUNTER_MASK) < BigInt(MAX_COUNTER)) next = lastTs + 1n;
  else next = lastBase + GRAIN;
  if (next >= INT64_LIMIT) throw new TimestampError("Timestamp too far in future");
  return next;
}

/**
 * Current Unix time in nanoseconds, with sub-millisecond precision: the
 * monotonic `process.hrtime.bigint()` offset from a wall-clock calibration.
 * At most every 100 ms the reading is compared with `Date.now()`; when the
 * two drift apart by more than ~1 ms (NTP slewing, a clock step) it is
 * recalibrated, so ids never run ahead of real time for long (3.6.1
 * Python peers cannot write while `last_ts` is ahead of their clock). A
 * recalibration may step the reading back; the id generator's max-rule
 * keeps ids increasing anyway.
 */
export function wallClockNs(): bigint {
  const mono = process.hrtime.bigint();
  let ns = calibratedWallNs + (mono - calibratedMonoNs);
  if (mono - lastDriftCheck > DRIFT_CHECK_INTERVAL_NS) {
    lastDriftCheck = mono;
    const realNs = BigInt(Date.now()) * 1_000_000n; // truncated: real time is in [realNs, realNs + 1 ms)
    if (ns < realNs - 1_000_000n || ns > realNs + 2_000_000n) {
      calibratedWallNs = realNs + 500_000n;
      calibratedMonoNs = mono;
      ns = calibratedWallNs;
    }
  }
  return ns;
}

/** True when `s` is exactly 19 ASCII digits (the `-m` format check, docs/compatibility.md#message-id-grammar). */
export function isValidMessageIdFormat(s: string): boolean {
  return MESSAGE_ID_RE.test(s);
}

/** Parses a `-m` message id: exactly 19 ASCII digits, value below 2^63. */
export function parseMessageId(input: string): bigint {
  if (!isValidMessageIdFormat(input)) throw new MessageIdError("invalid message ID: expected exactly 19 digits");
  const id = BigInt(input);
  if (id >= INT64_LIMIT) throw new MessageIdError("invalid message ID: expected exactly 19 digits within range");
  return id;
}

/**
 * Parses an `--after` / `--before` value into an id bound (docs/compatibility.md#timestamp-grammar): unit
 * suffixes (`s`, `ms`, `ns`), ISO-8601 as Python 3.11 `datetime.fromisoformat`
 * reads it, Unix seconds/milliseconds by digit count, or a native id verbatim.
 * Throws {@link TimestampError} with the exact 3.6.1 texts.
 */
export function parseTimestampBound(input: string): bigint {
  const s = pyStrip(input);
  if (s === "") throw invalid("empty string");
  if (/[eE]/.test(s)) {
    // Only real exponent notation gets the special message (docs/compatibility.md#q3-scientific-notation).
    throw invalid(pyRegex().scientific.test(s) ? "scientific notation not supported" : s);
  }
  const unit = splitUnitSuffix(s);
  if (unit !== null) return parseWithUnit(s, unit.num, unit.scale);
  if (s.includes("-") || /[tTzZ]/.test(s) || /^[0-9]{8}$/.test(s)) {
    const micros = parseIsoMicros(s.replaceAll("Z", "+00:00"));
    if (micros !== null) return isoBound(s, micros);
  }
  const int = pyInt(s);
  if (int !== null) return integerBound(s, int);
  if (s.includes(".")) return floatBound(s);
  throw invalid(s);
}

// --- internal ---

let calibratedWallNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
let calibratedMonoNs = process.hrtime.bigint();
let lastDriftCheck = calibratedMonoNs;
const DRIFT_CHECK_INTERVAL_NS = 100_000_000n;

/** Characters Python's `str.isspace()` accepts (what `strip()`, `int()` and `float()` drop). */
const PY_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
/** Python digit run with PEP 515 underscores (only between digits). */
const DIGITS = "[0-9](?:_?[0-9])*";
/** The parser's regexes, compiled on first use: a write or a read never parses a timestamp. */
let pyRegexes: { space: RegExp; int: RegExp; float: RegExp; scientific: RegExp } | undefined;
function pyRegex(): NonNullable<typeof pyRegexes> {
  return (pyRegexes ??= {
    space: new RegExp(`[${PY_SPACE}]`),
    int: new RegExp(`^[+-]?${DIGITS}$`),
    float: new RegExp(`^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})$`),
    scientific: new RegExp(
      `^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})[eE][+-]?${DIGITS}(?:[${PY_SPACE}]*(?:ns|ms)|s)?$`,
    ),
  });
}
/** CPython's default `sys.get_int_max_str_digits()`: longer strings make `int()` fail. */
const PY_INT_MAX_DIGITS = 4300;

function invalid(detail: string): TimestampError {
  return new TimestampError(`Invalid timestamp: ${detail}`);
}

/** Python `str.strip()`: a linear scan (an anchored regex can go quadratic on long runs). */
function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && pyRegex().space.test(text.charAt(start))) start++;
  while (end > start && pyRegex().space.test(text.charAt(end - 1))) end--;
  return text.slice(start, end);
}

/** Python `int(text)` in base 10 (ASCII digits only), or null where it raises ValueError. */
function pyInt(text: string): bigint | null {
  const t = pyStrip(text);
  if (!pyRegex().int.test(t)) return null;
  const digits = t.replace(/[+_]/g, "");
  if (digits.replace("-", "").length > PY_INT_MAX_DIGITS) return null;
  return BigInt(digits);
}

/** Python `float(text)` for the decimal forms reachable here, or null where it raises. */
function pyFloat(text: string): number | null {
  const t = pyStrip(text);
  return pyRegex().float.test(t) ? Number(t.replaceAll("_", "")) : null;
}

/** `len(text.lstrip("0") or "0")`: the digit count behind the unit heuristic. */
function significantLength(text: string): number {
  return text.replace(/^0+/, "").length || 1;
}

function splitUnitSuffix(s: string): { num: string; scale: bigint } | null {
  if (s.endsWith("ns")) return { num: s.slice(0, -2), scale: 1n };
  if (s.endsWith("ms")) return { num: s.slice(0, -2), scale: 1_000_000n };
  if (s.endsWith("s") && /[0-9]/.test(s.charAt(s.length - 2))) return { num: s.slice(0, -1), scale: 1_000_000_000n };
  return null;
}

function parseWithUnit(s: string, num: string, scale: bigint): bigint {
  let ns: bigint;
  if (num.includes(".")) {
    const value = pyFloat(num);
    if (value === null) throw invalid(s);
    if (value < 0) throw invalid("cannot be negative");
    const scaled = value * Number(scale);
    if (!Number.isFinite(scaled)) throw invalid(s); // Python: OverflowError from int(inf)
    ns = BigInt(Math.trunc(scaled));
  } else {
    const value = pyInt(num);
    if (value === null) throw invalid(s);
    if (value < 0n) throw invalid("cannot be negative");
    ns = value * scale;
  }
  const bound = ns & BASE_MASK;
  if (bound >= INT64_LIMIT) throw invalid("too far in future");
  return bound;
}

function isoBound(s: string, micros: bigint): bigint {
  // Python: int(dt.timestamp() * 1e9), timestamp() being micros / 10**6 rounded once to a double.
  const seconds = divideToDouble(micros, 1_000_000n);
  const bound = BigInt(Math.trunc(seconds * 1e9)) & BASE_MASK;
  if (bound >= INT64_LIMIT) throw invalid("too far in future");
  // Before 1677-09-21 the bound no longer fits SQLite's INTEGER (Python fails when binding it).
  if (bound < -INT64_LIMIT) throw invalid(s);
  return bound;
}

function integerBound(s: string, value: bigint): bigint {
  if (value < 0n) throw invalid("cannot be negative");
  if (value >= NATIVE_BOUNDARY) {
    if (value >= INT64_LIMIT) throw invalid("exceeds maximum value");
    return value;
  }
  const digits = significantLength(s);
  const ns = digits > 16 ? value : digits > 11 ? value * 1_000_000n : value * 1_000_000_000n;
  const bound = ns & BASE_MASK;
  if (bound >= INT64_LIMIT) throw invalid(s);
  return bound;
}

function floatBound(s: string): bigint {
  const value = pyFloat(s);
  if (value === null) throw invalid(s);
  if (value < 0) throw invalid("cannot be negative");
  const digits = significantLength(s.slice(0, s.indexOf(".")));
  const scaled = digits > 16 ? value : digits > 11 ? value * 1e6 : value * 1e9;
  if (!Number.isFinite(scaled)) throw invalid(s);
  const bound = BigInt(Math.trunc(scaled)) & BASE_MASK;
  if (bound >= INT64_LIMIT) throw invalid(s);
  return bound;
}

/** `n / d` rounded once to the nearest double (ties to even), as Python's int true division. */
function divideToDouble(n: bigint, d: bigint): number {
  const negative = n < 0n;
  const a = negative ? -n : n;
  if (a <= 1n << 53n) return (negative ? -1 : 1) * (Number(a) / Number(d));
  const shift = Math.max(0, 55 + bitLength(d) - bitLength(a));
  const scaled = a << BigInt(shift);
  let q = scaled / d;
  const rem = scaled % d;
  const excess = bitLength(q) - 53;
  const dropped = q & ((1n << BigInt(excess)) - 1n);
  const half = 1n << BigInt(excess - 1);
  q >>= BigInt(excess);
  if (dropped > half || (dropped === half && (rem !== 0n || (q & 1n) === 1n))) q += 1n;
  const exponent = excess - shift;
  const magnitude = exponent >= 0 ? Number(q) * 2 ** exponent : Number(q) / 2 ** -exponent;
  return negative ? -magnitude : magnitude;
}

function bitLength(n: bigint): number {
  return n.toString(2).length;
}

/**
 * `count` fresh ids after `last`, each from the wall clock by {@link nextHybridTimestamp}
 * (the caller holds the lock that makes `last` current and stores the last id).
 */
export function nextHybridTimestamps(last: bigint, count: number): bigint[] {
  const ids: bigint[] = new Array(count);
  for (let i = 0; i < count; i++) ids[i] = last = nextHybridTimestamp(last, wallClockNs());
  return ids;
}
