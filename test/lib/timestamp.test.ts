// Guards the timestamp grammars against SimpleBroker 3.6.1: every row of the
// vectors below, verified against 3.6.1 (bit for bit, including Python's double
// rounding), its error texts, docs/compatibility.md#q3-scientific-notation, the `-m` grammar,
// and the hybrid-logical-clock rule (docs/on-disk-format.md#id-generation). Property tests use a seeded PRNG
// so a failure always reproduces.
import { describe, expect, test } from "bun:test";
import { MessageIdError, TimestampError } from "../../lib/core/errors.ts";
import {
  decodeHybridTimestamp,
  encodeHybridTimestamp,
  isValidMessageIdFormat,
  nextHybridTimestamp,
  parseMessageId,
  parseTimestampBound,
  wallClockNs,
} from "../../lib/time/timestamp.ts";
import { seededRandom as prng } from "../helpers.ts";

/** The bound, or the exact error text. */
function outcome(input: string): bigint | string {
  try {
    return parseTimestampBound(input);
  } catch (error) {
    if (!(error instanceof TimestampError)) throw error;
    return error.message;
  }
}

const err = (detail: string): string => `Invalid timestamp: ${detail}`;

// [inputs, expected] — inputs that 3.6.1 maps to the same bound share a row.
const VECTORS: [string[], bigint | string][] = [
  [["2024-01-15"], 1705276800000000000n],
  [
    ["2024-01-15T14:30:00Z", "2024-01-15T14:30:00", "2024-01-15t14:30:00", "20240115T143000Z", "2024-01-15T1430"],
    1705329000000000000n,
  ],
  [["2024-01-15 14:30:00+05:00"], 1705311000000000000n],
  [["2024-01-15T14:30:00+0530"], 1705309200000000000n],
  [["2024-01-15T14"], 1705327200000000000n],
  [["20240115"], 1705276800000000000n],
  [["2024-W03-1"], 1705276800000000000n],
  [["2024-01-15T14:30:00.123456Z", "1705329000.123456789"], 1705329000123453440n],
  [["2024-01-15T14:30:00,5", "1705329000.5", "1705329000.5s"], 1705329000499998720n],
  [["1705329000", "1705329000s", " 1705329000 "], 1705329000000000000n],
  [["1705329000000", "1705329000000ms"], 1705329000000000000n],
  [["1705329000000000000", "1705329000000000000ns"], 1705329000000000000n],
  [["1837025672140161024"], 1837025672140161024n],
  [["1234567890123"], 1234567890122997760n],
  [["1705329000000000"], 1705329000000000n],
  [["100000000000"], 100000000000000000n],
  [["99999999999"], err("99999999999")],
  [["17592186044415"], err("17592186044415")],
  [["17592186044416"], 17592186044416n],
  [["2024"], 2024000000000n],
  [["12345678"], 12345677999996928n],
  [["0", "000", "00000000", "1970-01-01"], 0n],
  [["1969-12-31"], -86400000000000n],
  [["+5"], 4999999488n],
  [["1_000"], 1000000000000n],
  [["1.5ms"], 1499136n],
  [["1.5ns"], 0n],
  [["9223372036854775807"], 9223372036854775807n],
  [["9223372036854775808", "9999999999999999999", "9".repeat(24)], err("exceeds maximum value")],
  [["1e10", "1.5E+9"], err("scientific notation not supported")],
  [["garbage"], err("garbage")], // 3.6.1 said "scientific notation not supported" (docs/compatibility.md#q3-scientific-notation)
  [["-1000", "-1000s", "-1000ms"], err("cannot be negative")],
  ...[
    "2024-13-01",
    "2024-01",
    "2024-015",
    "2024-1-5",
    "2024-01-15T24:00:00",
    "2024-01-15T14:30:00z",
    "12:30",
    "now",
    "abc",
    "T",
  ].map((input): [string[], string] => [[input], err(input)]),
  [["9999999999999999999ns", "9999999999999999ms"], err("too far in future")],
  [["", "   "], err("empty string")],
];

describe("parseTimestampBound: vectors verified against 3.6.1", () => {
  const cases = VECTORS.flatMap(([inputs, expected]) => inputs.map((input) => [input, expected] as const));
  test.each(cases)("%p", (input, expected) => {
    expect(outcome(input)).toBe(expected);
  });
});

describe("parseTimestampBound: error texts and fixes", () => {
  test.each([
    ["1.5e9", err("scientific notation not supported")], // pinned by 3.6.1's own tests
    ["-1", err("cannot be negative")],
    [(1n << 64n).toString(), err("exceeds maximum value")],
    ["", err("empty string")],
    // Real exponent notation keeps its message (docs/compatibility.md#q3-scientific-notation); other words containing e/E do not.
    ["1e-3", err("scientific notation not supported")],
    ["1e10s", err("scientific notation not supported")],
    ["notatime", err("notatime")],
    ["yesterday", err("yesterday")],
    ["2024-01-15e14:30", err("2024-01-15e14:30")],
    // Golden transcript (after-before-iso, after-units).
    ["2999-01-01T00:00:00Z", err("too far in future")],
    ["2000-01-01", 946684800000000000n],
    ["946684800s", 946684800000000000n],
    ["946684800000ms", 946684800000000000n],
    ["946684800000000000ns", 946684800000000000n],
  ] as const)("%p", (input, expected) => {
    expect(outcome(input)).toBe(expected);
  });

  test("the error is a TimestampError with code INVALID_TIMESTAMP", () => {
    expect(() => parseTimestampBound("abc")).toThrow(TimestampError);
    try {
      parseTimestampBound("abc");
    } catch (error) {
      expect((error as TimestampError).code).toBe("INVALID_TIMESTAMP");
    }
  });

  test("Python 3.11 fromisoformat quirks are reproduced", () => {
    expect(outcome("2024-01-15x14:30")).toBe(1705329000000000000n); // any separator
    expect(outcome("2024-01-15\u00e914:30")).toBe(1705329000000000000n); // even a non-ASCII one
    expect(outcome("2024-W03")).toBe(1705276800000000000n);
    expect(outcome("2024W03")).toBe(err("2024W03")); // no '-', 'T' or 'Z': ISO is not tried
    expect(outcome("2024-01-15T14:30:00:12")).toBe(1705329000119996416n); // ":12" read as .12 s
    expect(outcome("2024-01-15T14:30+05:99")).toBe(1705305059999997952n); // offset minutes unchecked
    expect(outcome("2024-01-15T14:30+24:00")).toBe(err("2024-01-15T14:30+24:00"));
    expect(outcome("0000-W52-7")).toBe(err("0000-W52-7"));
  });
});

describe("parseMessageId", () => {
  const FORMAT = "invalid message ID: expected exactly 19 digits";
  const RANGE = "invalid message ID: expected exactly 19 digits within range";
  test.each([
    ["1837025672140161024", 1837025672140161024n],
    ["9223372036854775807", 9223372036854775807n],
    ["0000000000000000000", 0n],
    ["9223372036854775808", RANGE],
    ["9999999999999999999", RANGE],
    ["183702567214016102", FORMAT],
    ["18370256721401610240", FORMAT],
    ["183702567214016102a", FORMAT],
    ["abc", FORMAT],
    ["", FORMAT],
    [" 1837025672140161024", FORMAT],
    ["\u0661".repeat(19), FORMAT], // Arabic-Indic digits: ASCII only
  ] as const)("%p", (input, expected) => {
    let result: bigint | string;
    try {
      result = parseMessageId(input);
    } catch (error) {
      expect(error).toBeInstanceOf(MessageIdError);
      result = (error as MessageIdError).message;
    }
    expect(result).toBe(expected);
    expect(isValidMessageIdFormat(input)).toBe(expected !== FORMAT);
  });
});

describe("hybrid timestamp layout", () => {
  test("decode splits physical nanoseconds, counter and date", () => {
    const { physicalNs, counter, date } = decodeHybridTimestamp(1837025672140161024n);
    expect({ physicalNs, counter, iso: date.toISOString() }).toEqual({
      physicalNs: 1837025672140161024n,
      counter: 0,
      iso: "2028-03-18T20:54:32.140Z",
    });
    expect(decodeHybridTimestamp(1837025672140161024n | 7n).counter).toBe(7);
  });

  test("encode masks the physical part and rejects bad counters", () => {
    expect(encodeHybridTimestamp(1705329000123456789n, 5)).toBe((1705329000123456789n & ~0xfffn) | 5n);
    expect(() => encodeHybridTimestamp(0n, 4096)).toThrow(RangeError);
    expect(() => encodeHybridTimestamp(0n, -1)).toThrow(RangeError);
    expect(() => encodeHybridTimestamp(0n, 1.5)).toThrow(RangeError);
  });
});

describe("nextHybridTimestamp", () => {
  const base = 1705329000123453440n;
  test.each([
    ["clock moved to a later grain", base | 9n, base + 0x1000n + 17n, base + 0x1000n],
    ["same grain", base | 9n, base + 3n, base | 10n],
    ["clock behind", base | 9n, base - 10_000_000n, base | 10n],
    ["counter overflow carries into the next grain", base | 4095n, base, base + 0x1000n],
  ] as const)("%s", (_name, last, now, expected) => {
    expect(nextHybridTimestamp(last, now)).toBe(expected);
  });

  test("refuses to pass 2^63", () => {
    expect(() => nextHybridTimestamp((1n << 63n) - 1n, 0n)).toThrow("Timestamp too far in future");
  });
});

test("wallClockNs tracks Date.now() and never goes backwards", () => {
  const first = wallClockNs();
  const second = wallClockNs();
  expect(second).toBeGreaterThanOrEqual(first);
  const driftMs = Number(first / 1_000_000n) - Date.now();
  expect(Math.abs(driftMs)).toBeLessThan(1000);
});

describe("properties (seeded)", () => {
  test("nextHybridTimestamp is strictly increasing and at most one step past max(now, last)", () => {
    const rand = prng(0x5eed);
    for (let run = 0; run < 200; run++) {
      let last = 1_700_000_000_000_000_000n + BigInt(Math.floor(rand() * 1e15));
      for (let step = 0; step < 200; step++) {
        // Mostly the same or a nearby grain, sometimes a clock jump either way.
        const jitter = rand() < 0.1 ? (rand() - 0.5) * 2e10 : (rand() - 0.7) * 20_000;
        const now = last + BigInt(Math.trunc(jitter));
        const next = nextHybridTimestamp(last, now);
        expect(next > last).toBe(true);
        expect(next - (now > last ? now : last) <= 1n).toBe(true);
        expect(next >= (now & ~0xfffn)).toBe(true);
        last = rand() < 0.02 ? (last & ~0xfffn) | 4095n : next;
      }
    }
  });

  test("parseTimestampBound throws nothing but TimestampError", () => {
    const rand = prng(42);
    const digitHeavy = "0123456789012345678901234567890123456789.-+_:TZsmn e";
    for (let i = 0; i < 2000; i++) {
      const length = Math.floor(rand() * 28);
      let input = "";
      for (let j = 0; j < length; j++) {
        input +=
          i % 2 === 0
            ? String.fromCharCode(32 + Math.floor(rand() * 95))
            : digitHeavy.charAt(Math.floor(rand() * digitHeavy.length));
      }
      try {
        const bound = parseTimestampBound(input);
        expect(typeof bound).toBe("bigint");
        expect(bound < 1n << 63n).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(TimestampError);
      }
    }
  });

  test("N, Ns, N000ms and N000000000ns give the same bound", () => {
    const rand = prng(7);
    for (let i = 0; i < 1000; i++) {
      const n = Math.floor(rand() * 2 ** 33);
      const forms = [`${n}s`, `${n}000ms`, `${n}000000000ns`];
      // A bare 8-digit number is first tried as an ISO basic date (YYYYMMDD).
      if (String(n).length !== 8) forms.push(String(n));
      const expected = (BigInt(n) * 1_000_000_000n) & ~0xfffn;
      for (const form of forms) expect(parseTimestampBound(form)).toBe(expected);
    }
  });
});

// --- internal ---
