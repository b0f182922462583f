/**
 * The part of a `Broker` a queue handle (`AsyncQueue`) uses. The handle
 * depends on this interface, not on the `Broker` class, so that `Broker`
 * can create handles without the two modules importing each other.
 * @module
 */
import type { BrokerConfig, Message, QueueStats, Selection } from "../core/types.ts";
import type { Loop, WalkKind } from "../delivery/loops.ts";
import type { FindOptions } from "./_inspect.ts";
import type { WatchMode } from "../watch/watch-source.ts";
import type { BrokerLeases } from "./_broker-leases.ts";

/** What an `AsyncQueue` asks of its broker; `Broker` implements it. Operands may be `@aliases`. */
export interface QueueHost {
  readonly config: BrokerConfig;
  /** Leases and delayed writes. */
  readonly leases: BrokerLeases;
  resolveQueue(name: string): Promise<string>;
  write(queue: string, body: string | string[]): Promise<bigint[]>;
  read(queue: string, selection?: Selection): Promise<Message[]>;
  peek(queue: string, selection?: Selection): Promise<Message[]>;
  move(source: string, target: string, selection?: Selection): Promise<Message[]>;
  delete(queue?: string): Promise<number>;
  deleteMessage(queue: string, id: bigint): Promise<boolean>;
  exists(queue: string): Promise<boolean>;
  queueStats(queue: string): Promise<QueueStats>;
  hasPending(queue: string, after?: bigint): Promise<boolean>;
  findMessageIds(queue: string, options?: FindOptions): Promise<bigint[]>;
  deleteMany(queue: string, ids: Iterable<bigint>): Promise<number>;
  latestPendingTimestamp(queue: string): Promise<bigint | undefined>;
  /** The messages of a delivery loop over `queue`, one by one. */
  iterate(queue: string, kind: WalkKind, loop: Loop, destination?: string): AsyncGenerator<Message, void, undefined>;
  /** Messages of `queue` (resolved) as they arrive, until `signal` aborts. */
  watch(queue: string, mode: WatchMode, signal: AbortSignal): AsyncGenerator<Message, void, undefined>;
}
