/**
 * Claims across a dropped connection on PostgreSQL
 * (docs/outages.md#claims-across-a-dropped-connection): the claim statement
 * stores its token in `messages.claim_token` of the rows it takes, in the
 * same statement (ops.ts `claimSql`). A claim sent again with a token that
 * may already have taken rows (its answer was lost) first collects them; only
 * when the token took nothing does it claim. The column has no index: the
 * hot path pays for nothing but the token's 16 bytes, and the rare collection
 * reads the rows of one queue. A store created before the column gets it the
 * first time this version opens it.
 * @module
 */
import type { SQL } from "bun";
import type { Message, Selection } from "../../core/types.ts";
import { claimSql, toMessages } from "./ops.ts";

/** Driver codes and SQLSTATEs of a connection that could not be made: a statement never reached the server. */
const UNSENT_CODES = new Set(["ERR_POSTGRES_CONNECTION_REFUSED", "ERR_POSTGRES_CONNECTION_TIMEOUT", "ECONNREFUSED"]);
const UNSENT_STATES = new Set(["08001", "08004", "57P03"]);

/** True when `error` (or its cause) says no connection could be made, so a claim was never sent. */
export function unsent(error: unknown): boolean {
  for (let e = error as { code?: unknown; errno?: unknown; cause?: unknown } | undefined, d = 0; e && d < 4; d++) {
    if (UNSENT_CODES.has(String(e.code)) || UNSENT_STATES.has(String(e.errno))) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Add the column to a `messages` table made before it (idempotent; metadata only, no rewrite). */
export function claimTokenDdl(s: string): string {
  return `ALTER TABLE ${s}.messages ADD COLUMN IF NOT EXISTS claim_token UUID;`;
}

/** A boolean SQL expression: `messages.claim_token` exists. */
export function claimTokenPresent(s: string): string {
  return `EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('${s}.messages') AND attname = 'claim_token' AND NOT attisdropped)`;
}

/** The claimed rows of `queue` that `token` took (not yet vacuumed). */
export function takenBySql(s: string, queue: string, token: string): { text: string; params: unknown[] } {
  return {
    text: `SELECT order_id, body, ts FROM ${s}.messages WHERE queue = $1 AND claimed AND claim_token = $2::uuid`,
    params: [queue, token],
  };
}

/**
 * One try of a claim under `token`: when `reused` (an earlier try may have
 * committed), what the token took, if anything; else a claim that stores
 * the token. `run` is the statement runner (due held messages first:
 * leases.ts `afterDue`).
 */
export async function claimOnce(
  db: SQL,
  s: string,
  queue: string,
  sel: Selection,
  token: string,
  reused: boolean,
  run: (st: { text: string; params: unknown[] }) => Promise<Parameters<typeof toMessages>[0]>,
): Promise<Message[]> {
  if (reused) {
    const st = takenBySql(s, queue, token);
    const rows = await db.unsafe(st.text, st.params);
    if (rows.length > 0) return toMessages(rows);
  }
  return toMessages(await run(claimSql(s, queue, sel, token)));
}
