/**
 * At-least-once batches on PostgreSQL: a claim or move run on a reserved pool
 * connection inside an open transaction, ended by the caller's commit or
 * rollback (the `reserve` capability of docs/backend-contract.md).
 * @module
 */
import type { SQL } from "bun";
import type { Reservation } from "../../core/types.ts";
import { withoutMarkers } from "./leases.ts";
import { type Statement, toMessages } from "./ops.ts";

/**
 * Run `st` in a transaction on a connection reserved from `db`; the returned
 * reservation commits or rolls back exactly once and then releases the
 * connection. `wrap` turns a failed COMMIT/ROLLBACK into the backend's error.
 */
export async function reserveBatch(
  db: SQL,
  st: Statement,
  wrap: (error: unknown, command: string) => Error,
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
