/**
 * Claims that survive a dropped connection (docs/outages.md#claims-across-a-dropped-connection):
 * every claim carries a fresh token that the server stores with what it took,
 * in the same transaction or script. When the connection breaks after the
 * claim was sent, the claim is sent again with the same token until the
 * server answers, for at most the connect timeout: the backend's
 * token-aware claim returns what the token already took (the first claim
 * committed and only its answer was lost), or claims anew (it never
 * committed). A claim still unanswered when the time is up fails as a lost
 * connection, and its token is kept: the next claim of the same queue and
 * selection in this process (the watchers retry the call that failed) uses
 * it again, so the first claim's messages are still handed over.
 * @module
 */
import type { Selection } from "../core/types.ts";
import { isConnectionLoss } from "./connection-loss.ts";

/** Tokens kept at most, per backend instance (oldest forgotten first). */
const MAX_KEPT = 256;
/** First pause between tries after a lost answer, and the cap of its doubling. */
const FIRST_PAUSE_MS = 25;
const MAX_PAUSE_MS = 400;

/** One try of a token-aware claim: `reused` is true when the token may already have taken something. */
export type TokenAttempt<T> = (token: string, reused: boolean) => Promise<T>;

/** The key of a claim call: the same queue and selection (and kind of call) share a kept token. */
export function claimKey(kind: string, queue: string, sel: Selection, extra = ""): string {
  const parts = [kind, queue, sel.exactId, sel.after, sel.before, sel.limit ?? 1, extra];
  return parts.map((p) => (p === undefined ? "" : String(p))).join("\0");
}

/**
 * Run `op`; after a lost connection, again (`again` true) until it answers
 * or `timeoutMs` has passed since the first failure, when that failure is
 * thrown. `unsent(error)`: the first try failed before anything reached the
 * server, so the call fails at once, as any call to a server that is down.
 * An `op` run again must be safe to repeat (idempotent, or collecting what
 * the first try did). Other errors pass at once.
 */
export async function untilAnswered<T>(
  timeoutMs: number,
  op: (again: boolean) => Promise<T>,
  unsent: (error: unknown) => boolean = () => false,
): Promise<T> {
  let deadline: number | undefined;
  for (let tries = 0; ; tries++) {
    try {
      return await op(tries > 0);
    } catch (error) {
      if (!isConnectionLoss(error) || (tries === 0 && unsent(error))) throw error;
      deadline ??= performance.now() + timeoutMs;
      const left = deadline - performance.now();
      if (left <= 0) throw error;
      await Bun.sleep(Math.min(left, MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** tries));
    }
  }
}

/** The tokens of one backend instance: fresh per claim, kept across a claim that lost its answer. */
export class ClaimTokens {
  readonly #timeoutMs: number;
  /** Tokens of claims that failed with a lost connection, by {@link claimKey}; Map order is age order. */
  readonly #kept = new Map<string, string>();

  /** `timeoutSeconds`: how long a claim may keep trying after a lost answer (BROKER_BACKEND_CONNECT_TIMEOUT). */
  constructor(timeoutSeconds: number) {
    this.#timeoutMs = timeoutSeconds * 1000;
  }

  /** How many tokens wait for a retried claim (for tests). */
  get kept(): number {
    return this.#kept.size;
  }

  /**
   * Run `attempt` with the token kept for `key` (taken out, so two concurrent
   * calls never recover the same claim) or a fresh one; after a lost
   * connection, again with the same token until it answers or the connect
   * timeout runs out. `unsent(error)` says a failure happened before the
   * claim could reach the server (no connection to send it on): the first
   * try failing so ends the call at once, as any call to a server that is
   * down, and the token is kept for the caller's own retry (in case the
   * claim went out after all). A failure that is no lost connection keeps
   * the token only when it came in kept.
   */
  async run<T>(key: string, attempt: TokenAttempt<T>, unsent: (error: unknown) => boolean = () => false): Promise<T> {
    let token = this.#kept.get(key);
    const kept = token !== undefined;
    this.#kept.delete(key);
    token ??= crypto.randomUUID();
    const t = token;
    try {
      return await untilAnswered(this.#timeoutMs, (again) => attempt(t, kept || again), unsent);
    } catch (error) {
      if (kept || isConnectionLoss(error)) this.#keep(key, token);
      throw error;
    }
  }

  /** {@link untilAnswered} with this instance's timeout. */
  retry<T>(op: (again: boolean) => Promise<T>, unsent?: (error: unknown) => boolean): Promise<T> {
    return untilAnswered(this.#timeoutMs, op, unsent);
  }

  // --- internal ---

  #keep(key: string, token: string): void {
    this.#kept.set(key, token);
    if (this.#kept.size > MAX_KEPT) this.#kept.delete(this.#kept.keys().next().value!);
  }
}
