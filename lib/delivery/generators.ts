/**
 * The options of the queue generators (`readGenerator`, `moveGenerator`,
 * `peekGenerator`) and the loop each set of options runs; shared by the
 * synchronous `Queue` and the asynchronous `AsyncQueue`.
 * @module
 */
import type { Selection } from "../core/types.ts";
import { batches, walk, type Loop } from "./loops.ts";
import { checkLimit } from "./ops.ts";

/**
 * Delivery guarantee of generators and batches. `exactly-once`: each message
 * is claimed (committed) before it is handed out. `at-least-once`: a batch is
 * claimed in an open transaction and committed when the next batch is asked
 * for; stopping early rolls the whole batch back.
 */
export type DeliveryGuarantee = "exactly-once" | "at-least-once";

/** Time filters of reads, peeks and moves (strict bounds). */
export interface RangeOptions {
  after?: bigint;
  before?: bigint;
}

/** Selection of the single-message calls: one id, or the oldest in a range. */
export type OneOptions = { exactId?: bigint } & RangeOptions;

/** Options of the `…Many` calls (the guarantee is accepted for SimpleBroker's signature; a batch is one transaction). */
export type ManyOptions = RangeOptions & { deliveryGuarantee?: DeliveryGuarantee };

/** Options of the generators. */
export interface GeneratorOptions extends RangeOptions {
  exactId?: bigint;
  /** Default `exactly-once`: one transaction per message. */
  deliveryGuarantee?: DeliveryGuarantee;
  /** At-least-once batch size (default `BROKER_GENERATOR_BATCH_SIZE`). */
  batchSize?: number;
}

/** Options of `peekGenerator`. */
export interface PeekGeneratorOptions extends RangeOptions {
  exactId?: bigint;
  /** Messages per page (default 1000). */
  pageSize?: number;
}

/** The loop of a read (`claim`) or move generator. */
export function generatorLoop(kind: "claim" | "move", options: GeneratorOptions, defaultBatchSize: number): Loop {
  if (options.exactId !== undefined) {
    // By id, a move generator takes only a pending message (moveOne may revive a claimed one).
    const selection: Selection = { exactId: options.exactId, requireUnclaimed: true };
    return walk({ kind, selection, once: true });
  }
  const selection: Selection = { after: options.after, before: options.before };
  if ((options.deliveryGuarantee ?? "exactly-once") === "exactly-once") return walk({ kind, selection });
  const batchSize = options.batchSize ?? defaultBatchSize;
  checkLimit(batchSize);
  return batches(selection, batchSize);
}

/** The loop of a peek generator: pages by id. */
export function peekLoop(options: PeekGeneratorOptions): Loop {
  if (options.exactId !== undefined) return walk({ kind: "peek", selection: { exactId: options.exactId }, once: true });
  const pageSize = options.pageSize ?? 1000;
  checkLimit(pageSize);
  return walk({ kind: "peek", selection: { after: options.after, before: options.before }, pageSize });
}
