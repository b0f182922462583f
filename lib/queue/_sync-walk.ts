/**
 * The delivery loops (lib/delivery) of the synchronous `Queue` on its SQLite
 * stores. Single claims, peeks and moves go through the queue's own calls;
 * a reserved (at-least-once) batch keeps its transaction open across yields,
 * so it holds one connection for the walk's whole life.
 * @module
 */
import type { Message, Selection } from "../core/types.ts";
import type { SqliteStore } from "../backends/sqlite/store.ts";
import { iterateSync, type SyncSource } from "../delivery/drive.ts";
import type { Loop } from "../delivery/loops.ts";
import { putBack } from "../delivery/ops.ts";
import type { QueueStores } from "./_shared-stores.ts";
import type { UseStore } from "./_sync-leases.ts";

/** What a walk asks of its `Queue`. */
export interface SyncWalkHost {
  readonly stores: QueueStores;
  /** Claim, peek or move one selection in its own transaction. */
  take(selection: Selection): Message[];
  /** Note messages delivered from a reserved batch (the queue tracks the highest id seen). */
  observe(messages: Message[]): void;
  use: UseStore;
}

/** Run `loop` on `queue` (moving to `destination`, if given), yielding each delivered message. */
export function* walkQueue(
  host: SyncWalkHost,
  queue: string,
  loop: Loop,
  destination?: string,
): Generator<Message, void, undefined> {
  let batchStore: SqliteStore | undefined;
  const source: SyncSource = {
    take: (sel) => host.take(sel),
    reserve: (sel) => {
      batchStore ??= host.stores.walkStore();
      const batch = batchStore.reserve(queue, sel, destination);
      host.observe(batch.messages);
      return batch;
    },
    putBack: (m) => void host.use((s) => putBack(s, queue, m, destination)),
  };
  try {
    yield* iterateSync(loop, source);
  } finally {
    if (batchStore) host.stores.endWalk(batchStore);
  }
}
