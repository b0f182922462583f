/**
 * ISO-8601 as CPython 3.11's `datetime.fromisoformat` reads it (the `--after`
 * / `--before` date forms of docs/compatibility.md#timestamp-grammar), byte for byte on the UTF-8 text,
 * quirks included: any one character separates date and time, a time may end
 * in ':' or '.' before an offset, offset minutes are not range-checked.
 * @module
 */

const UTF8 = new TextEncoder();
const CH_DASH = 0x2d;
const CH_W = 0x57;
const CH_COLON = 0x3a;
const MIN_DAY = daysFromCivil(1, 1, 1);
const MAX_DAY = daysFromCivil(9999, 12, 31);
const DAY_US = 86_400_000_000n;

/** Microseconds since the epoch (naive times are UTC), or null where Python raises. */
export function parseIsoMicros(text: string): bigint | null {
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
function parseHhMmSsFf(at: (i: number) => number, start: number, end: number): [number, number, number, number, boolean] | null {
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
