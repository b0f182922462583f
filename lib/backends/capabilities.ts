/**
 * The optional capabilities of a {@link Backend}, used with a fallback when
 * a backend lacks one. Shared code calls these instead of the optional
 * methods, so a backend can start with the required core only.
 * @module
 */
import { putBack } from "../core/put-back.ts";
import { BackendError } from "../core/errors.ts";
import type { Backend, Message, RenameResult, Reservation, Selection, VacuumResult } from "../core/types.ts";

/**
 * Claim (or move to `moveTo`) a batch that stays revocable until
 * commit/rollback. Without the reservations capability the batch is taken
 * at once, `commit` does nothing and `rollback` puts every message back
 * pending in `queue` under its id. The difference shows only on a crash:
 * a reservation the store holds open comes back by itself, a batch taken
 * without one stays taken.
 */
export function reserveBatch(backend: Backend, queue: string, selection: Selection, moveTo?: string): Promise<Reservation> {
  if (backend.reserve) return backend.reserve(queue, selection, moveTo);
  return takenBatch(backend, queue, selection, moveTo);
}

/** Delete claimed messages (`compact`: also reclaim space). Without the maintenance capability nothing is kept to remove. */
export function vacuumStore(backend: Backend, compact = false): Promise<VacuumResult> {
  return backend.vacuum ? backend.vacuum(compact) : Promise.resolve({ vacuumed: 0, ran: true });
}

/** Remove the store itself. Without the cleanup capability: false, nothing was removed. */
export function cleanupStore(backend: Backend): Promise<boolean> {
  return backend.cleanup ? backend.cleanup() : Promise.resolve(false);
}

/** Rename a queue (see {@link Backend.rename}). Without the rename capability: a BackendError naming the backend. */
export function renameQueue(backend: Backend, source: string, target: string, retargetAliases: boolean): Promise<RenameResult> {
  if (backend.rename) return backend.rename(source, target, retargetAliases);
  return Promise.reject(new BackendError(`The ${backend.name} backend cannot rename queues`));
}

// --- internal ---

async function takenBatch(backend: Backend, queue: string, selection: Selection, moveTo?: string): Promise<Reservation> {
  const messages: Message[] =
    moveTo === undefined ? await backend.claim(queue, selection) : await backend.move(queue, moveTo, selection);
  let open = true;
  return {
    messages,
    commit: async () => {
      open = false;
    },
    rollback: async () => {
      if (!open) return;
      open = false;
      const from = moveTo ?? queue;
      for (const m of messages) await putBack(backend, queue, m, from);
    },
  };
}
