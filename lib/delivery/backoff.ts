/**
 * Retry delays of a worker (`process()`): exponential in the attempt number,
 * capped, with jitter so that workers that failed together do not retry
 * together (docs/leases.md#library-and-cli).
 * @module
 */

/** How long a failed message waits before it is delivered again. */
export interface BackoffOptions {
  /** Delay after the first failed attempt, before jitter (default 1000 ms). */
  baseMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Cap, before jitter (default 60,000 ms). */
  maxMs?: number;
  /** Fraction of the delay drawn at random: the delay is d × (1 − jitter × r), r in [0, 1) (default 0.5). */
  jitter?: number;
}

/** The defaults of {@link BackoffOptions}. */
export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseMs: 1000, factor: 2, maxMs: 60_000, jitter: 0.5 };

/**
 * The delay after failed attempt number `attempt` (1-based): `min(maxMs,
 * baseMs × factor^(attempt−1))`, less up to `jitter` of it at random.
 * A function given instead of options is called with the attempt.
 */
export function backoffDelay(
  attempt: number,
  backoff: BackoffOptions | ((attempt: number) => number) = {},
  random: () => number = Math.random,
): number {
  if (typeof backoff === "function") return Math.max(0, backoff(attempt));
  const o = { ...DEFAULT_BACKOFF, ...backoff };
  const raw = Math.min(o.maxMs, o.baseMs * o.factor ** Math.max(0, attempt - 1));
  const jitter = Math.min(1, Math.max(0, o.jitter));
  return Math.max(0, Math.round(raw * (1 - jitter * random())));
}
