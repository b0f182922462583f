/**
 * What `Broker.deliver` runs: a walk over a queue, or a watch.
 * @module
 */
import type { WatchMode } from "../watch/watch-source.ts";
import type { WalkOptions } from "./loops.ts";

/** A walk `Broker.deliver` runs: a queue walk, or a watch that waits for more. Names already resolved. */
export type DeliveryPlan =
  | (WalkOptions & {
      queue: string;
      destination?: string;
      /**
       * A whole-queue claim walk in at-least-once batches of this many (`BROKER_READ_COMMIT_INTERVAL` > 1):
       * each batch is claimed in one transaction, delivered, then committed; when delivery stops early,
       * what arrived stays claimed and the rest goes back.
       */
      commitInterval?: number;
    })
  | { watch: WatchMode; queue: string };
