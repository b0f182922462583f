/**
 * Durations on the command line (`--lease`, `--delay`): a positive integer
 * with `ms`, `s`, `m` or `h`; a bare integer is seconds (docs/leases.md#library-and-cli).
 * And `--at TIME`, an instant in the `--after` grammar of read and peek.
 * @module
 */
import { ArgumentError } from "../lib/core/errors.ts";
import { decodeHybridTimestamp, parseTimestampBound } from "../lib/time/timestamp.ts";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a DUR value given to `option`; anything but a positive integer with an optional unit is an error. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] ?? "s"]! : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new ArgumentError(
      `Invalid duration for ${option}: '${text}' (expected a positive integer with ms, s, m or h, e.g. 30s)`,
    );
  }
  return ms;
}

/** Milliseconds since the epoch of an `--at` value (ISO-8601, Unix time, a message id: the `--after` grammar). */
export function parseInstant(text: string): number {
  const bound = parseTimestampBound(text);
  return Number(decodeHybridTimestamp(bound).physicalNs / 1_000_000n);
}
