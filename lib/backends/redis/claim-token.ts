/**
 * Claims and reservations across a dropped connection on Redis
 * (docs/outages.md#claims-across-a-dropped-connection): the claim script
 * records what a token took under `claims:<token>` (ten minutes) and the
 * reserve script keeps its reservation under the token anyway, so sending the
 * same script with the same token again is idempotent: it returns what the
 * first one took, or takes now when the first one never ran. Ending a
 * reservation is idempotent too, so a commit or rollback whose answer was
 * lost is sent again. The tokens and the retries are ../claim-tokens.ts.
 * @module
 */
import type { Message, Reservation, Selection } from "../../core/types.ts";
import { ClaimTokens, claimKey } from "../claim-tokens.ts";
import { selectionArgs } from "./keys.ts";
import { toMessages } from "./replies.ts";
import type { ScriptName } from "./scripts.ts";

// biome-ignore lint/suspicious/noExplicitAny: a script's reply shape depends on the script; callers narrow it
type Run = (name: ScriptName, args: string[]) => Promise<any>;

/** Claim and reserve of a Redis store whose scripts `run` runs. */
export interface TokenClaims {
  claim(queue: string, sel: Selection): Promise<Message[]>;
  reserve(queue: string, sel: Selection, moveTo?: string): Promise<Reservation>;
}

/**
 * `timeoutSeconds`: how long a claim keeps trying after a lost answer
 * (BROKER_BACKEND_CONNECT_TIMEOUT); `reservationMs`: when an uncommitted
 * reservation goes back to pending; `connected`: whether the command
 * connection is up (a claim started without one that fails was not sent:
 * both failures read "Connection closed").
 */
export function tokenClaims(run: Run, timeoutSeconds: number, reservationMs: number, connected: () => boolean): TokenClaims {
  const tokens = new ClaimTokens(timeoutSeconds);
  const runOnce = <T>(key: string, attempt: (token: string) => Promise<T>) => {
    const unsent = !connected();
    return tokens.run(key, attempt, () => unsent);
  };
  return {
    async claim(queue, sel) {
      const args = selectionArgs(sel);
      if (!args) return [];
      const head = [queue, args.limit, args.after, args.before, args.exact];
      return runOnce(claimKey("claim", queue, sel), async (token) => toMessages(await run("claim", [...head, token])));
    },

    async reserve(queue, sel, moveTo) {
      const args = selectionArgs(sel);
      let token = "";
      const messages = args
        ? await runOnce(claimKey("reserve", queue, sel, moveTo), async (t) => {
            token = t;
            const head = [queue, args.limit, args.after, args.before, args.exact, moveTo ?? ""];
            return toMessages(await run("reserve", [...head, t, String(reservationMs)]));
          })
        : [];
      let open = messages.length > 0;
      const finish = async (commit: boolean) => {
        if (!open) return;
        open = false;
        // -1: the reservation went stale and its messages are pending again (at-least-once), or, sent again
        // after a lost answer, the first one ended it: the script is idempotent.
        const unsent = !connected();
        await tokens.retry(
          () => run("finish", [token, commit ? "1" : "0"]),
          () => unsent,
        );
      };
      return { messages, commit: () => finish(true), rollback: () => finish(false) };
    },
  };
}
