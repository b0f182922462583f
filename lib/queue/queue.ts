/**
 * `Queue`: one named queue with SimpleBroker's semantics, synchronous, on
 * SQLite. Handles are ephemeral by default (a connection per call, as
 * SimpleBroker); `persistent: true` shares one connection per database in
 * the process and enables auto-vacuum. `writeAsync` batches concurrent
 * writes into shared transactions (group commit). Generators run the shared
 * delivery loops (lib/delivery).
 * @module
 */
import { resolveConfig } from "../target/config.ts";
import { BackendError } from "../core/errors.ts";
import type { SqliteStore } from "../backends/sqlite/store.ts";
import type { BrokerConfig, Message, QueueStats, Selection } from "../core/types.ts";
import { validateMessageSize, validateQueueName } from "../core/validate.ts";
import { watchQueue, type WatchOptions } from "../watch/watcher.ts";
import {
  generatorLoop,
  peekLoop,
  type GeneratorOptions,
  type ManyOptions,
  type OneOptions,
  type PeekGeneratorOptions,
  type RangeOptions,
} from "../delivery/generators.ts";
import type { Loop, WalkKind } from "../delivery/loops.ts";
import { checkLimit, destinationName } from "../delivery/ops.ts";
import { GroupCommit } from "./_group-commit.ts";
import { AutoVacuum, QueueStores } from "./_shared-stores.ts";
import { dueTime } from "./_broker-leases.ts";
import type { LeaseOptions, SyncLease } from "./_lease-handle.ts";
import { processOnTarget, SyncQueueLeases } from "./_sync-leases.ts";
import { type FindOptions, SyncQueueInspect } from "./_sync-inspect.ts";
import { walkQueue } from "./_sync-walk.ts";
import { type QueueOptions, queueDbPath } from "./_queue-target.ts";
import type { JobHandler, ProcessOptions, ProcessResult } from "./_worker.ts";

export type { DeliveryGuarantee, GeneratorOptions, PeekGeneratorOptions, RangeOptions } from "../delivery/generators.ts";
export type { QueueOptions } from "./_queue-target.ts";

/** A named queue. Use `using q = new Queue("jobs")` to close it automatically. */
export class Queue implements Disposable {
  readonly name: string;
  readonly config: BrokerConfig;
  readonly persistent: boolean;
  readonly #path: string;
  readonly #stores: QueueStores;
  readonly #leases: SyncQueueLeases;
  readonly #inspect: SyncQueueInspect;
  #closed = false;
  #lastTs: bigint | undefined;
  readonly #group = new GroupCommit((bodies) => this.#writeNow(bodies));
  #vacuum: AutoVacuum;

  constructor(name: string, options: QueueOptions = {}) {
    this.name = name;
    this.config = resolveConfig(options.config);
    this.persistent = options.persistent ?? false;
    this.#vacuum = new AutoVacuum(this.config);
    this.#path = queueDbPath(options.dbPath, this.config);
    this.#stores = new QueueStores(this.#path, this.config, this.persistent);
    this.#leases = new SyncQueueLeases(name, (fn) => this.#use(fn));
    this.#inspect = new SyncQueueInspect(name, (fn) => this.#use(fn));
  }

  /** Absolute path of the database file. */
  get dbPath(): string {
    return this.#path;
  }

  /** Write one message; returns its id. With `{ delayMs }` or `{ at }` it stays invisible until then (docs/leases.md). */
  write(body: string, options: { delayMs?: number; at?: Date | number } = {}): bigint {
    const due = dueTime(options);
    if (due === undefined) return this.writeMany([body])[0]!;
    return this.#leases.writeDelayed([body], due, this.config.maxMessageSize)[0]!;
  }

  /** Write many messages in one transaction; returns their ids in order. */
  writeMany(bodies: string[]): bigint[] {
    validateQueueName(this.name);
    for (const b of bodies) validateMessageSize(b, this.config.maxMessageSize);
    return this.#writeNow(bodies);
  }

  /**
   * Write one message, sharing a transaction (and its fsync) with every other
   * `writeAsync` issued before the next turn of the event loop. Resolves with
   * the id once the message is committed.
   */
  writeAsync(body: string): Promise<bigint> {
    try {
      validateQueueName(this.name);
      validateMessageSize(body, this.config.maxMessageSize);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#group.add(body);
  }

  /** Claim the oldest pending message (or the one with `exactId`); null when there is none. */
  readOne(options: OneOptions = {}): Message | null {
    return this.#take("claim", { ...options, limit: 1 })[0] ?? null;
  }

  /** Same as {@link readOne}. */
  read(options: OneOptions = {}): Message | null {
    return this.readOne(options);
  }

  /** Claim up to `limit` messages in one transaction. */
  readMany(limit: number, options: ManyOptions = {}): Message[] {
    checkLimit(limit);
    return this.#take("claim", { after: options.after, before: options.before, limit });
  }

  /**
   * Claim messages one by one. Exactly-once (default): each is committed
   * before it is yielded. At-least-once: a batch is claimed in one
   * transaction and committed when the next batch is asked for; stopping
   * early (`break`, throw) rolls the whole batch back.
   */
  *readGenerator(options: GeneratorOptions = {}): Generator<Message, void, undefined> {
    yield* this.#run("claim", generatorLoop("claim", options, this.config.generatorBatchSize));
  }

  peekOne(options: { exactId?: bigint; includeClaimed?: boolean } & RangeOptions = {}): Message | null {
    return this.#take("peek", { ...options, limit: 1 })[0] ?? null;
  }

  peek(options: OneOptions & { includeClaimed?: boolean } = {}): Message | null {
    return this.peekOne(options);
  }

  peekMany(limit = 1000, options: RangeOptions & { includeClaimed?: boolean } = {}): Message[] {
    checkLimit(limit);
    return this.#take("peek", { ...options, limit });
  }

  /** Page through pending messages without claiming them. */
  *peekGenerator(options: PeekGeneratorOptions = {}): Generator<Message, void, undefined> {
    yield* this.#run("peek", peekLoop(options));
  }

  /** Move the oldest pending message (or `exactId`, even a claimed one unless `requireUnclaimed`). */
  moveOne(destination: string | Queue, options: OneOptions & { requireUnclaimed?: boolean } = {}): Message | null {
    const sel: Selection = { ...options, limit: 1 };
    if (options.exactId !== undefined) sel.requireUnclaimed = options.requireUnclaimed ?? false;
    return this.#take("move", sel, destinationName(this.name, destination))[0] ?? null;
  }

  move(destination: string | Queue, options: OneOptions = {}): Message | null {
    return this.moveOne(destination, options);
  }

  moveMany(destination: string | Queue, limit: number, options: ManyOptions = {}): Message[] {
    checkLimit(limit);
    return this.#take("move", { after: options.after, before: options.before, limit }, destinationName(this.name, destination));
  }

  *moveGenerator(destination: string | Queue, options: GeneratorOptions = {}): Generator<Message, void, undefined> {
    const dest = destinationName(this.name, destination);
    yield* this.#run("move", generatorLoop("move", options, this.config.generatorBatchSize), dest);
  }

  /** Take the oldest pending message (or `exactId`) under a lease of `ms`; null when none. `using` releases it unless settled. */
  lease(options: LeaseOptions): SyncLease | null {
    return this.#leases.lease(1, options)[0] ?? null;
  }

  /** Run a worker on this queue until `options.signal` aborts (docs/leases.md#library-and-cli). */
  process(handler: JobHandler, options: ProcessOptions = {}): Promise<ProcessResult> {
    return processOnTarget(this.#path, this.config, this.name, handler, options);
  }

  /** Without an id: delete every row of the queue (true if any). With an id: claim that pending message. */
  delete(options: { messageId?: bigint } = {}): boolean {
    validateQueueName(this.name);
    if (options.messageId !== undefined) return this.#take("claim", { exactId: options.messageId, limit: 1 }).length > 0;
    return this.#use((s) => s.deleteQueue(this.name)) > 0;
  }

  exists(): boolean {
    return this.stats().total > 0 || this.#leases.holdsAny();
  }

  stats(): QueueStats {
    validateQueueName(this.name);
    return this.#use((s) => s.queueStats(this.name));
  }

  /** Ids of the pending messages matching `options` (`bodyContains`, `after`, `before`, `limit`), oldest first. */
  findMessageIds(options: FindOptions = {}): bigint[] {
    return this.#inspect.findMessageIds(options);
  }

  /** Claim the pending messages with these ids; returns how many were found. */
  deleteMany(ids: Iterable<bigint>): number {
    return this.#inspect.deleteMany(ids);
  }

  /** The newest pending id, or undefined when nothing is pending. */
  latestPendingTimestamp(): bigint | undefined {
    return this.#inspect.latestPendingTimestamp();
  }

  hasPending(after?: bigint): boolean {
    validateQueueName(this.name);
    return this.#use((s) => s.hasPending(this.name, after));
  }

  /** A fresh id, allocated (`meta.last_ts` advances) without writing a message. */
  generateTimestamp(): bigint {
    return (this.#lastTs = this.#use((s) => s.generateTimestamp()));
  }

  /** The highest id allocated in this database, as last seen by this handle. */
  get lastTs(): bigint {
    return (this.#lastTs ??= this.refreshLastTs());
  }

  refreshLastTs(): bigint {
    return (this.#lastTs = this.#use((s) => s.lastTimestamp()));
  }

  /** SQLite `PRAGMA data_version` of this handle's connection. */
  dataVersion(): bigint {
    return this.#use((s) => s.dataVersion());
  }

  /**
   * Watch the queue: an async iterator of messages as they arrive (consumed,
   * or peeked with `{ peek: true }`). Stop with `break` or an AbortSignal.
   */
  watch(options: WatchOptions = {}): AsyncIterable<Message> {
    return watchQueue(this.name, { ...options, target: this.#path, config: this.config });
  }

  close(): void {
    if (this.#closed) return;
    // Commit writeAsync calls still waiting for their batch before the handle goes away.
    this.#group.flush();
    this.#closed = true;
    this.#stores.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return this.name;
  }

  #use<T>(fn: (store: SqliteStore) => T): T {
    if (this.#closed) throw new BackendError(`Queue '${this.name}' is closed`);
    return this.#stores.use(fn);
  }

  /** Claim, peek or move (to `destination`, already checked) in one transaction. */
  #take(kind: WalkKind, sel: Selection, destination?: string): Message[] {
    validateQueueName(this.name);
    const take = (s: SqliteStore) => (kind === "move" ? s.move(this.name, destination!, sel) : s[kind](this.name, sel));
    return this.#observe(this.#use(take));
  }

  #observe(messages: Message[]): Message[] {
    for (const m of messages) if (this.#lastTs === undefined || m.ts > this.#lastTs) this.#lastTs = m.ts;
    return messages;
  }

  /** Run a delivery loop on this queue (see ./_sync-walk.ts). */
  *#run(kind: WalkKind, loop: Loop, destination?: string): Generator<Message, void, undefined> {
    validateQueueName(this.name);
    const host = {
      stores: this.#stores,
      take: (sel: Selection) => this.#take(kind, sel, destination),
      observe: (messages: Message[]) => void this.#observe(messages),
      use: <T>(fn: (store: SqliteStore) => T) => this.#use(fn),
    };
    yield* walkQueue(host, this.name, loop, destination);
  }

  #writeNow(bodies: string[]): bigint[] {
    const ids = this.#use((s) => s.write(this.name, bodies));
    if (ids.length) this.#lastTs = ids[ids.length - 1];
    const shared = this.#stores.shared;
    if (shared) this.#vacuum.afterWrites(shared, ids.length);
    return ids;
  }
}
