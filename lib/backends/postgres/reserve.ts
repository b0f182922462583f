/**
 * At-least-once batches on PostgreSQL: a claim or move run on a reserved pool
 * connection inside an open transaction, ended by the caller's commit or
 * rollback (the `reserve` capability of docs/backend-contract.md). Across a
 * dropped connection (docs/outages.md#claims-across-a-dropped-connection): a
 * batch whose connection broke before it was handed out never committed, so
 * it is taken again (within the connect timeout); a claimed batch whose
 * COMMIT lost its answer is looked up by its token, and counts as committed
 * when its rows are claimed under it.
 * @module
 */
import type { SQL } from "bun";
import type { Reservation, Selection } from "../../core/types.ts";
import { isConnectionLoss } from "../connection-loss.ts";
import type { ClaimTokens } from "../claim-tokens.ts";
import { takenBySql, unsent } from "./claim-token.ts";
import { withoutMarkers } from "./leases.ts";
import { claimSql, moveSql, type Statement, toMessages } from "./ops.ts";

type Run = <T>(op: (db: SQL) => Promise<T>) => Promise<T>;

/** What {@link reserve} needs of the backend. */
export interface ReserveContext {
  /** Runs an operation on the pool (schema ensured, errors wrapped). */
  run: Run;
  tokens: ClaimTokens;
  /** The quoted schema, and its NOTIFY channel. */
  s: string;
  channel: string;
  /** Returns the due held messages of a queue to pending. */
  promote: (db: SQL, queue: string) => Promise<unknown>;
  /** Turns a failed COMMIT/ROLLBACK into the backend's error. */
  wrap: (error: unknown, command: string) => Error;
}

/** A batch of `queue` claimed (or moved to `moveTo`) in an open transaction. */
export function reserve(ctx: ReserveContext, queue: string, sel: Selection, moveTo?: string): Promise<Reservation> {
  const token = crypto.randomUUID();
  const st = moveTo === undefined ? claimSql(ctx.s, queue, sel, token) : moveSql(ctx.s, queue, moveTo, sel, ctx.channel);
  const committed =
    moveTo === undefined
      ? () =>
          ctx.tokens.retry(() =>
            ctx.run(async (db) => {
              const q = takenBySql(ctx.s, queue, token);
              return (await db.unsafe(q.text, q.params)).length > 0;
            }),
          )
      : undefined;
  return ctx.tokens.retry(
    () =>
      ctx.run(async (db) => {
        await ctx.promote(db, queue);
        return reserveBatch(db, st, ctx.wrap, committed);
      }),
    unsent,
  );
}

/**
 * Run `st` in a transaction on a connection reserved from `db`; the returned
 * reservation commits or rolls back exactly once and then releases the
 * connection. `wrap` turns a failed COMMIT/ROLLBACK into the backend's error;
 * `committed`, asked when a COMMIT lost its connection, says whether it took
 * effect all the same.
 */
export async function reserveBatch(
  db: SQL,
  st: Statement,
  wrap: (error: unknown, command: string) => Error,
  committed?: () => Promise<boolean>,
): Promise<Reservation> {
  const conn = await db.reserve();
  let rows: Parameters<typeof toMessages>[0];
  try {
    await conn.unsafe("BEGIN");
    rows = await conn.unsafe(st.text, st.params);
  } catch (error) {
    await conn.unsafe("ROLLBACK").catch(() => {});
    await conn.release();
    throw error;
  }
  let open = true;
  const end = async (command: "COMMIT" | "ROLLBACK") => {
    if (!open) return;
    open = false;
    try {
      await conn.unsafe(command);
    } catch (error) {
      // A lost ROLLBACK rolled back anyway (the server ends a transaction whose connection is gone).
      if (isConnectionLoss(error) && (command === "ROLLBACK" || (committed && (await committed().catch(() => false))))) return;
      throw wrap(error, command);
    } finally {
      await conn.release();
    }
  };
  // The marker row of a due held message (ops.ts `dueMarker`): the caller returned those just before; a batch
  // that raced a new one is empty, and the next claim returns it.
  const messages = toMessages(withoutMarkers(rows));
  return { messages, commit: () => end("COMMIT"), rollback: () => end("ROLLBACK") };
}
