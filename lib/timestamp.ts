/**
 * Hybrid timestamps (message ids) and the grammars of `--after` / `--before`
 * bounds and `-m` message ids (SPEC §2.1, §2.6, §3.9, §3.10).
 *
 * An id is `(unixNs & ~0xFFF) | counter`: wall-clock nanoseconds rounded down
 * to a 4096 ns grain, with a 12-bit logical counter in the low bits.
 * @module
 */
import { MessageIdError, TimestampError } from "./errors.ts";

const COUNTER_MASK = 0xfffn;
const BASE_MASK = ~COUNTER_MASK;
const GRAIN = 0x1000n;
const MAX_COUNTER = 4095;
const INT64_LIMIT = 1n << 63n;
/** Integers at or above 2^44 are native ids; below it, Unix seconds or ms. */
const NATIVE_BOUNDARY = 1n << 44n;
const MESSAGE_ID_RE = /^[0-9]{19}$/;

/** Packs wall-clock nanoseconds and a 12-bit counter into one id (SPEC §2.1). */
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
 * max-rule (SPEC §2.6): a newer grain restarts the counter at 0; otherwise the
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
 * recalibrated, so ids never run ahead of real time for long (SPEC §2.6:
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

/** True when `s` is exactly 19 ASCII digits (the `-m` format check, SPEC §3.10). */
export function isValidMessageIdFormat(s: string): boolean {
  return MESSAGE_ID_RE.test(s);
}

/** Parses a `-m` message id: exactly 19 ASCII digits, value below 2^63 (SPEC §3.10). */
export function parseMessageId(input: string): bigint {
  if (!isValidMessageIdFormat(input)) throw new MessageIdError("invalid message ID: expected exactly 19 digits");
  const id = BigInt(input);
  if (id >= INT64_LIMIT) throw new MessageIdError("invalid message ID: expected exactly 19 digits within range");
  return id;
}

/**
 * Parses an `--after` / `--before` value into an id bound (SPEC §3.9): unit
 * suffixes (`s`, `ms`, `ns`), ISO-8601 as Python 3.11 `datetime.fromisoformat`
 * reads it, Unix seconds/milliseconds by digit count, or a native id verbatim.
 * Throws {@link TimestampError} with the exact 3.6.1 texts.
 */
export function parseTimestampBound(input: string): bigint {
  const s = pyStrip(input);
  if (s === "") throw invalid("empty string");
  if (/[eE]/.test(s)) {
    // Quirk Q3 fixed: only real exponent notation gets the special message.
    throw invalid(SCIENTIFIC_RE.test(s) ? "scientific notation not supported" : s);
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
const PY_SPACE_RE = new RegExp(`[${PY_SPACE}]`);
/** Python digit run with PEP 515 underscores (only between digits). */
const DIGITS = "[0-9](?:_?[0-9])*";
const PY_INT_RE = new RegExp(`^[+-]?${DIGITS}$`);
const PY_FLOAT_RE = new RegExp(`^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})$`);
const SCIENTIFIC_RE = new RegExp(
  `^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})[eE][+-]?${DIGITS}(?:[${PY_SPACE}]*(?:ns|ms)|s)?$`,
);
/** CPython's default `sys.get_int_max_str_digits()`: longer strings make `int()` fail. */
const PY_INT_MAX_DIGITS = 4300;

function invalid(detail: string): TimestampError {
  return new TimestampError(`Invalid timestamp: ${detail}`);
}

/** Python `str.strip()`: a linear scan (an anchored regex can go quadratic on long runs). */
function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PY_SPACE_RE.test(text.charAt(start))) start++;
  while (end > start && PY_SPACE_RE.test(text.charAt(end - 1))) end--;
  return text.slice(start, end);
}

/** Python `int(text)` in base 10 (ASCII digits only), or null where it raises ValueError. */
function pyInt(text: string): bigint | null {
  const t = pyStrip(text);
  if (!PY_INT_RE.test(t)) return null;
  const digits = t.replace(/[+_]/g, "");
  if (digits.replace("-", "").length > PY_INT_MAX_DIGITS) return null;
  return BigInt(digits);
}

/** Python `float(text)` for the decimal forms reachable here, or null where it raises. */
function pyFloat(text: string): number | null {
  const t = pyStrip(text);
  return PY_FLOAT_RE.test(t) ? Number(t.replaceAll("_", "")) : null;
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

// ISO-8601, reproducing CPython 3.11 `datetime.fromisoformat` (Modules/_datetimemodule.c)
// byte for byte on the UTF-8 text, quirks included: any one character separates date
// and time, a time may end in ':' or '.' before an offset, offset minutes are not
// range-checked. Returns microseconds since the epoch; naive times are UTC.

const UTF8 = new TextEncoder();
const CH_DASH = 0x2d;
const CH_W = 0x57;
const CH_COLON = 0x3a;
const MIN_DAY = daysFromCivil(1, 1, 1);
const MAX_DAY = daysFromCivil(9999, 12, 31);
const DAY_US = 86_400_000_000n;

function parseIsoMicros(text: string): bigint | null {
  if ([...text].length < 7) return null;
  const b = UTF8.encode(text);
  const at = (i: number): number => b[i] ?? 0; // C string: NUL past the end
  const sep = isoSeparator(b, at);
  if (sep < 0) return null;
  const day = parseIsoDate(at, sep);
  if (day === null) return null;
  let timeUs = 0n;
  let offsetUs = 0n;
  if (b.length > sep) {
    const lead = at(sep);
    const width = (lead & 0x80) === 0 ? 1 : (lead & 0xf0) === 0xe0 ? 3 : (lead & 0xf0) === 0xf0 ? 4 : 2;
    const time = parseIsoTime(at, sep + width, b.length);
    if (time === null) return null;
    [timeUs, offsetUs] = time;
  }
  return BigInt(day) * DAY_US + timeUs - offsetUs;
}

/** `_find_isoformat_datetime_separator`: where the date ends (-1: ambiguous/invalid). */
function isoSeparator(b: Uint8Array, at: (i: number) => number): number {
  const len = b.length;
  if (len === 7) return 7;
  if (at(4) === CH_DASH) {
    if (at(5) !== CH_W) return 10;
    if (len < 8) return -1;
    if (len > 8 && at(8) === CH_DASH) {
      if (len === 9) return -1;
      return len > 10 && isDigit(at(10)) ? 8 : 10;
    }
    return 8;
  }
  if (at(4) !== CH_W) return 8;
  let idx = 7;
  while (idx < len && isDigit(at(idx))) idx++;
  if (idx < 9) return idx;
  return idx % 2 === 0 ? 7 : 8;
}

/** `parse_isoformat_date` + range checks: days since the epoch, or null. */
function parseIsoDate(at: (i: number) => number, len: number): number | null {
  let p = 0;
  const year = digitsAt(at, p, 4);
  if (year === null) return null;
  p += 4;
  const usesSep = at(p) === CH_DASH;
  if (usesSep) p++;
  if (at(p) === CH_W) {
    p++;
    const week = digitsAt(at, p, 2);
    if (week === null) return null;
    p += 2;
    let weekday = 1;
    if (p < len) {
      if (usesSep && at(p++) !== CH_DASH) return null;
      const d = digitsAt(at, p, 1);
      if (d === null) return null;
      weekday = d;
    }
    return isoWeekToDay(year, week, weekday);
  }
  const month = digitsAt(at, p, 2);
  if (month === null) return null;
  p += 2;
  if (usesSep && at(p++) !== CH_DASH) return null;
  const day = digitsAt(at, p, 2);
  if (day === null || year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return daysFromCivil(year, month, day);
}

/** `iso_to_ymd` for ISO week dates, then the datetime year range check. */
function isoWeekToDay(year: number, week: number, weekday: number): number | null {
  if (year < 1) return null; // CPython ends up with year <= 0 for every ISO year 0 input
  const jan1 = daysFromCivil(year, 1, 1);
  const jan1Weekday = (((jan1 + 3) % 7) + 7) % 7; // Monday = 0; 1970-01-01 was a Thursday
  if (week < 1 || week > 53) return null;
  if (week === 53 && !(jan1Weekday === 3 || (jan1Weekday === 2 && isLeap(year)))) return null;
  if (weekday < 1 || weekday > 7) return null;
  const week1Monday = jan1 - jan1Weekday + (jan1Weekday > 3 ? 7 : 0);
  const day = week1Monday + (week - 1) * 7 + weekday - 1;
  return day >= MIN_DAY && day <= MAX_DAY ? day : null;
}

/** `parse_isoformat_time`: [local time of day µs, UTC offset µs], or null. */
function parseIsoTime(at: (i: number) => number, start: number, end: number): [bigint, bigint] | null {
  let tz = start;
  do {
    const c = at(tz);
    if (c === 0x5a || c === 0x2b || c === CH_DASH) break; // 'Z' '+' '-'
  } while (++tz < end);
  const time = parseHhMmSsFf(at, start, tz);
  if (time === null) return null;
  const [hour, minute, second, micro, trailing] = time;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const local = BigInt(((hour * 60 + minute) * 60 + second) * 1_000_000 + micro);
  if (tz === end) return trailing ? null : [local, 0n];
  if (at(tz) === 0x5a) return at(tz + 1) === 0 ? [local, 0n] : null;
  const sign = at(tz) === CH_DASH ? -1n : 1n;
  const offset = parseHhMmSsFf(at, tz + 1, end);
  if (offset === null || offset[4]) return null;
  const [oh, om, os, ous] = offset;
  const offsetSeconds = BigInt(oh * 3600 + om * 60 + os);
  if (offsetSeconds === 0n) return [local, 0n]; // CPython returns UTC here, dropping the µs
  const offsetUs = sign * (offsetSeconds * 1_000_000n + BigInt(ous));
  if (offsetUs <= -DAY_US || offsetUs >= DAY_US) return null;
  return [local, offsetUs];
}

/** `parse_hh_mm_ss_ff` on [p, end): [h, m, s, µs, trailing junk?], or null on failure. */
function parseHhMmSsFf(
  at: (i: number) => number,
  start: number,
  end: number,
): [number, number, number, number, boolean] | null {
  const vals = [0, 0, 0];
  let p = start;
  let hasSep = true;
  let i = 0;
  for (; i < 3; i++) {
    const v = digitsAt(at, p, 2);
    if (v === null) return null;
    vals[i] = v;
    p += 2;
    const c = at(p++);
    if (i === 0) hasSep = c === CH_COLON;
    if (p >= end) return [vals[0]!, vals[1]!, vals[2]!, 0, c !== 0];
    if (hasSep && c === CH_COLON) continue;
    if (c === 0x2e || c === 0x2c) break; // '.' ','
    if (!hasSep) p--;
    else return null;
  }
  const count = Math.min(end - p, 6);
  let micro = digitsAt(at, p, count);
  if (micro === null) return null;
  p += count;
  micro *= 10 ** (6 - count);
  while (isDigit(at(p))) p++;
  return [vals[0]!, vals[1]!, vals[2]!, micro, at(p) !== 0];
}

function digitsAt(at: (i: number) => number, p: number, count: number): number | null {
  let value = 0;
  for (let i = 0; i < count; i++) {
    const c = at(p + i);
    if (!isDigit(c)) return null;
    value = value * 10 + (c - 0x30);
  }
  return value;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeap(year) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** Days since 1970-01-01 in the proleptic Gregorian calendar. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
