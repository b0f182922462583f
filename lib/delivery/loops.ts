/**
 * The delivery loops, each written once. A loop is a generator of
 * {@link Step}s: it says what to do (take messages, open a batch, hand a
 * message out, put one back) and a driver (`./drive.ts`) does it, either
 * synchronously (the SQLite `Queue`) or asynchronously (`AsyncQueue`, the
 * watchers, the CLI). The loops know nothing about backends or printing.
 * @module
 */
import type { Message, Selection } from "../core/types.ts";

/** What a walk does to each message it takes. */
export type WalkKind = "claim" | "peek" | "move";

/** A batch claimed or moved inside an open transaction (at-least-once). */
export interface Batch {
  readonly messages: Message[];
}

/** One thing a loop asks its driver to do, with the value the driver answers. */
export type Step =
  /** Claim, peek or move (per the walk) matching messages, committed; answer: the messages, oldest first. */
  | { op: "take"; selection: Selection }
  /** Claim or move a batch in an open transaction; answer: the {@link Batch}. */
  | { op: "reserve"; selection: Selection }
  /** Commit or roll back a reserved batch. */
  | { op: "end"; batch: Batch; commit: boolean }
  /** Hand the message to its consumer; the driver throws into the loop when it did not arrive. */
  | { op: "deliver"; message: Message }
  /** Return a taken but undelivered message to where it was, pending again. */
  | { op: "putBack"; message: Message }
  /** Nothing is pending; answer: true to look again (watch), false to stop. */
  | { op: "idle" };

/** A delivery loop. */
export type Loop = Generator<Step, void, never>;

/** Options of {@link walk}. */
export interface WalkOptions {
  kind: WalkKind;
  /** Time bounds and exact id of the selection. */
  selection: Selection;
  /**
   * Messages per take. Claims and moves take one at a time (committed, then
   * delivered: exactly-once), or a page at a time where the caller accepts
   * a page being committed before its messages are delivered (`move --all`).
   */
  pageSize?: number;
  /** Stop after the first take (a single read, peek or move). */
  once?: boolean;
  /** Take at most this many messages in all. */
  max?: number;
}

/**
 * Take and deliver until nothing matches (then ask {@link Step} `idle`).
 * Peeks page by id (keyset: each page starts after the last id seen, never
 * at an offset), so a whole-queue walk reads each row once. Claims and moves
 * need no cursor: what they took is no longer pending.
 */
export function* walk(options: WalkOptions): Loop {
  const { kind, selection, once = false } = options;
  const pageSize = options.pageSize ?? 1;
  // One take step per page, made anew only when its cursor or limit changed: an exactly-once walk
  // takes one message per step, so what it allocates per step is paid per message.
  let take = { op: "take" as const, selection: { ...selection, limit: 0 } };
  for (let left = options.max ?? Infinity; left > 0; ) {
    const limit = Math.min(pageSize, left);
    if (take.selection.limit !== limit) take = { op: "take", selection: { ...take.selection, limit } };
    const page: Message[] = yield take;
    left -= page.length;
    for (let i = 0; i < page.length; i++) {
      try {
        yield { op: "deliver", message: page[i]! };
      } catch (error) {
        // Not delivered: a claimed or moved message goes back, pending again, with the rest of its page.
        if (kind !== "peek") for (let k = i; k < page.length; k++) yield { op: "putBack", message: page[k]! };
        throw error;
      }
    }
    if (kind === "peek" && page.length > 0) {
      take = { op: "take", selection: { ...take.selection, after: page[page.length - 1]!.ts } };
    }
    if (once || selection.exactId !== undefined) return;
    if (page.length === limit) continue;
    if (!(yield { op: "idle" })) return;
  }
}

/**
 * At-least-once: reserve a batch in an open transaction, deliver each of its
 * messages, commit. When delivery stops early (the consumer stopped or
 * failed), the whole batch is rolled back: every message is pending again.
 * With `keepDelivered` (`read --all` with a commit interval), the messages
 * that did arrive are then claimed again by id, so only the rest stays
 * pending (a crash in between re-delivers them: still at-least-once).
 */
export function* batches(selection: Selection, batchSize: number, keepDelivered = false): Loop {
  for (;;) {
    const batch: Batch = yield { op: "reserve", selection: { ...selection, limit: batchSize } };
    let arrived = 0;
    try {
      for (const message of batch.messages) {
        yield { op: "deliver", message };
        arrived++;
      }
    } finally {
      const all = arrived === batch.messages.length;
      yield { op: "end", batch, commit: all };
      if (!all && keepDelivered) {
        for (let i = 0; i < arrived; i++) yield { op: "take", selection: { exactId: batch.messages[i]!.ts, limit: 1 } };
      }
    }
    if (batch.messages.length < batchSize) return;
  }
}
