/**
 * `AsyncQueue`: one named queue on any backend (SQLite, PostgreSQL, Redis),
 * with the same methods as the synchronous SQLite `Queue`, returning
 * promises. Get one from `broker.queue(name)`.
 * @module
 */
import type { Message, QueueStats, Selection } from "../core/types.ts";
import {
  generatorLoop,
  peekLoop,
  type DeliveryGuarantee,
  type GeneratorOptions,
  type PeekGeneratorOptions,
  type RangeOptions,
} from "../delivery/generators.ts";
import { checkLimit } from "../delivery/ops.ts";
import type { QueueHost } from "./_host.ts";
import type { FindOptions } from "./_inspect.ts";
import type { WatchOptions } from "../watch/watch-source.ts";
import { dueTime } from "./_broker-leases.ts";
import { Lease, type LeaseOptions } from "./_lease-handle.ts";
import { type JobHandler, type ProcessOptions, type ProcessResult, runWorker } from "./_worker.ts";

/** A queue of an open `Broker` (get one from `broker.queue(name)`). Names may be `@aliases`. */
export class AsyncQueue {
  readonly name: string;
  readonly broker: QueueHost;

  constructor(broker: QueueHost, name: string) {
    this.broker = broker;
    this.name = name;
  }

  /**
   * Write one message; resolves with its id once committed. With `{ delayMs }`
   * or `{ at }` (a Date or ms since the epoch) it stays invisible until then.
   */
  async write(body: string, options: { delayMs?: number; at?: Date | number } = {}): Promise<bigint> {
    const due = dueTime(options);
    if (due === undefined) return (await this.broker.write(this.name, body))[0]!;
    return (await this.broker.leases.writeDelayed(this.name, [body], due))[0]!;
  }

  /** Write many messages in one transaction; ids in order. */
  writeMany(bodies: string[]): Promise<bigint[]> {
    return this.broker.write(this.name, bodies);
  }

  /** Claim the oldest pending message (or `exactId`); null when there is none. */
  async readOne(options: { exactId?: bigint } & RangeOptions = {}): Promise<Message | null> {
    return (await this.broker.read(this.name, { ...options, limit: 1 }))[0] ?? null;
  }

  /** Claim up to `limit` messages in one transaction. */
  readMany(limit: number, options: RangeOptions & { deliveryGuarantee?: DeliveryGuarantee } = {}): Promise<Message[]> {
    checkLimit(limit);
    return this.broker.read(this.name, { after: options.after, before: options.before, limit });
  }

  /** Claim messages one by one (exactly-once) or in revocable batches (at-least-once). */
  async *readGenerator(options: GeneratorOptions = {}): AsyncGenerator<Message, void, undefined> {
    yield* this.broker.iterate(this.name, "claim", generatorLoop("claim", options, this.broker.config.generatorBatchSize));
  }

  /** `includeClaimed`: also claimed messages not yet vacuumed (inspection only). */
  async peekOne(options: { exactId?: bigint; includeClaimed?: boolean } & RangeOptions = {}): Promise<Message | null> {
    return (await this.broker.peek(this.name, { ...options, limit: 1 }))[0] ?? null;
  }

  peekMany(limit = 1000, options: RangeOptions & { offset?: number; includeClaimed?: boolean } = {}): Promise<Message[]> {
    checkLimit(limit);
    return this.broker.peek(this.name, { ...options, limit });
  }

  /** Page through pending messages without claiming them (pages by id). */
  async *peekGenerator(options: PeekGeneratorOptions = {}): AsyncGenerator<Message, void, undefined> {
    yield* this.broker.iterate(this.name, "peek", peekLoop(options));
  }

  /** Move the oldest pending message (or `exactId`, even a claimed one) to `destination`. */
  async moveOne(
    destination: string,
    options: { exactId?: bigint; requireUnclaimed?: boolean } & RangeOptions = {},
  ): Promise<Message | null> {
    const sel: Selection = { ...options, limit: 1 };
    if (options.exactId !== undefined) sel.requireUnclaimed = options.requireUnclaimed ?? false;
    return (await this.broker.move(this.name, destination, sel))[0] ?? null;
  }

  moveMany(destination: string, limit: number, options: RangeOptions = {}): Promise<Message[]> {
    checkLimit(limit);
    return this.broker.move(this.name, destination, { ...options, limit });
  }

  async *moveGenerator(destination: string, options: GeneratorOptions = {}): AsyncGenerator<Message, void, undefined> {
    yield* this.broker.iterate(
      this.name,
      "move",
      generatorLoop("move", options, this.broker.config.generatorBatchSize),
      destination,
    );
  }

  /**
   * Take the oldest pending message (or `exactId`) under a lease of `ms`;
   * null when none. `await using` releases it unless it was settled.
   */
  async lease(options: LeaseOptions): Promise<Lease | null> {
    return (await this.leaseMany(1, options))[0] ?? null;
  }

  /** Lease up to `limit` pending messages, oldest first, in one transaction. */
  async leaseMany(limit: number, options: LeaseOptions): Promise<Lease[]> {
    checkLimit(limit);
    const queue = await this.broker.resolveQueue(this.name);
    const { ms, ...range } = options;
    const got = await this.broker.leases.lease(queue, { ...range, leaseMs: ms, limit });
    return got.map((m) => new Lease(this.broker.leases, queue, m));
  }

  /** Run a worker on this queue until `options.signal` aborts (docs/leases.md#library-and-cli). */
  async process(handler: JobHandler, options: ProcessOptions = {}): Promise<ProcessResult> {
    return runWorker(this.broker.leases, this.name, handler, options, (name) => this.broker.resolveQueue(name));
  }

  /** Without an id: delete the queue's rows (true if any). With an id: claim that message. */
  async delete(options: { messageId?: bigint } = {}): Promise<boolean> {
    if (options.messageId !== undefined) return this.broker.deleteMessage(this.name, options.messageId);
    return (await this.broker.delete(this.name)) > 0;
  }

  exists(): Promise<boolean> {
    return this.broker.exists(this.name);
  }

  stats(): Promise<QueueStats> {
    return this.broker.queueStats(this.name);
  }

  /** Ids of the pending messages matching `options` (`bodyContains`, `after`, `before`, `limit`), oldest first. */
  findMessageIds(options: FindOptions = {}): Promise<bigint[]> {
    return this.broker.findMessageIds(this.name, options);
  }

  /** Claim the pending messages with these ids; returns how many were found. */
  deleteMany(ids: Iterable<bigint>): Promise<number> {
    return this.broker.deleteMany(this.name, ids);
  }

  /** The newest pending id, or undefined when nothing is pending. */
  latestPendingTimestamp(): Promise<bigint | undefined> {
    return this.broker.latestPendingTimestamp(this.name);
  }

  hasPending(after?: bigint): Promise<boolean> {
    return this.broker.hasPending(this.name, after);
  }

  /** Messages as they arrive (consumed, or peeked with `{ peek: true }`), until `signal` aborts or `break`. */
  async *watch(options: WatchOptions = {}): AsyncGenerator<Message, void, undefined> {
    const name = await this.broker.resolveQueue(this.name);
    const stop = new AbortController();
    const abort = () => stop.abort();
    options.signal?.addEventListener("abort", abort, { once: true });
    if (options.signal?.aborted) stop.abort();
    try {
      yield* this.broker.watch(name, { kind: options.peek ? "peek" : "consume", after: options.after }, stop.signal);
    } finally {
      options.signal?.removeEventListener("abort", abort);
    }
  }

  toString(): string {
    return this.name;
  }
}
