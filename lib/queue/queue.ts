/**
 * `Queue`: one named queue with SimpleBroker's semantics, synchronous, on
 * SQLite. Handles are ephemeral by default (a connection per call, as
 * SimpleBroker); `persistent: true` shares one connection per database in
 * the process and enables auto-vacuum. `writeAsync` batches concurrent
 * writes into shared transactions (group commit). Generators run the shared
 * delivery loops (lib/delivery).
 * @module
 */
import { resolveConfig, type ConfigOverrides } from "../target/config.ts";
import { BackendError } from "../core/errors.ts";
import { resolveTargetArg } from "./open.ts";
import { localFilesOf } from "../backends/index.ts";
import { SqliteStore } from "../backends/sqlite/store.ts";
import { asBackendError } from "../backends/sqlite/schema.ts";
import type { BrokerConfig, BrokerTarget, Message, QueueStats, Selection } from "../core/types.ts";
import { validateMessageSize, validateQueueName } from "../core/validate.ts";
import { watchQueue, type WatchOptions } from "../watch/watcher.ts";
import { iterateSync, type SyncSource } from "../delivery/drive.ts";
import { generatorLoop, peekLoop, type DeliveryGuarantee, type GeneratorOptions, type PeekGeneratorOptions, type RangeOptions } from "../delivery/generators.ts";
import type { Loop, WalkKind } from "../delivery/loops.ts";
import { checkDestination, checkLimit, putBack } from "../delivery/ops.ts";
import { acquireStore, autoVacuum, releaseStore } from "./_shared-stores.ts";

export type { DeliveryGuarantee, GeneratorOptions, PeekGeneratorOptions, RangeOptions } from "../delivery/generators.ts";

/** Options of {@link Queue}. */
export interface QueueOptions {
  /** Database file, directory, or resolved target; default: the current directory's target. */
  dbPath?: string | BrokerTarget;
  /** Share one connection per database in this process until the last close (default false). */
  persistent?: boolean;
  /** Overrides of the `BROKER_*` configuration. */
  config?: ConfigOverrides;
}

/** A named queue. Use `using q = new Queue("jobs")` to close it automatically. */
export class Queue implements Disposable {
  readonly name: string;
  readonly config: BrokerConfig;
  readonly persistent: boolean;
  readonly #path: string;
  #shared: SqliteStore | undefined;
  #closed = false;
  #lastTs: bigint | undefined;
  #writesSinceVacuum = 0;
  #pending: Array<{ body: string; resolve: (id: bigint) => void; reject: (e: unknown) => void }> = [];
  #flushScheduled = false;

  constructor(name: string, options: QueueOptions = {}) {
    this.name = name;
    this.config = resolveConfig(options.config);
    this.persistent = options.persistent ?? false;
    const target = typeof options.dbPath === "object" ? options.dbPath : resolveTargetArg(options.dbPath, this.config);
    if (!localFilesOf(target.backendName)) {
      throw new BackendError(
        `Queue works on SQLite; the target uses '${target.backendName}'. Use openBroker() for other backends.`,
      );
    }
    this.#path = target.target;
  }

  /** Absolute path of the database file. */
  get dbPath(): string {
    return this.#path;
  }

  /** Write one message; returns its id. */
  write(body: string): bigint {
    return this.writeMany([body])[0]!;
  }

  /** Write many messages in one transaction; returns their ids in order. */
  writeMany(bodies: string[]): bigint[] {
    validateQueueName(this.name);
    for (const b of bodies) validateMessageSize(b, this.config.maxMessageSize);
    const ids = this.#use((s) => s.write(this.name, bodies));
    if (ids.length) this.#lastTs = ids[ids.length - 1];
    this.#afterWrites(ids.length);
    return ids;
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
    return new Promise((resolve, reject) => {
      this.#pending.push({ body, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Claim the oldest pending message (or the one with `exactId`); null when there is none. */
  readOne(options: { exactId?: bigint } & RangeOptions = {}): Message | null {
    return this.#claim({ ...options, limit: 1 })[0] ?? null;
  }

  /** Same as {@link readOne}. */
  read(options: { exactId?: bigint } & RangeOptions = {}): Message | null {
    return this.readOne(options);
  }

  /** Claim up to `limit` messages in one transaction. */
  readMany(limit: number, options: RangeOptions & { deliveryGuarantee?: DeliveryGuarantee } = {}): Message[] {
    checkLimit(limit);
    return this.#claim({ after: options.after, before: options.before, limit });
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

  peekOne(options: { exactId?: bigint } & RangeOptions = {}): Message | null {
    return this.#peek({ ...options, limit: 1 })[0] ?? null;
  }

  peek(options: { exactId?: bigint } & RangeOptions = {}): Message | null {
    return this.peekOne(options);
  }

  peekMany(limit = 1000, options: RangeOptions = {}): Message[] {
    checkLimit(limit);
    return this.#peek({ ...options, limit });
  }

  /** Page through pending messages without claiming them. */
  *peekGenerator(options: PeekGeneratorOptions = {}): Generator<Message, void, undefined> {
    yield* this.#run("peek", peekLoop(options));
  }

  /** Move the oldest pending message (or `exactId`, even a claimed one unless `requireUnclaimed`). */
  moveOne(destination: string | Queue, options: { exactId?: bigint; requireUnclaimed?: boolean } & RangeOptions = {}): Message | null {
    const sel: Selection = { ...options, limit: 1 };
    if (options.exactId !== undefined) sel.requireUnclaimed = options.requireUnclaimed ?? false;
    return this.#move(destination, sel)[0] ?? null;
  }

  move(destination: string | Queue, options: { exactId?: bigint } & RangeOptions = {}): Message | null {
    return this.moveOne(destination, options);
  }

  moveMany(destination: string | Queue, limit: number, options: RangeOptions & { deliveryGuarantee?: DeliveryGuarantee } = {}): Message[] {
    checkLimit(limit);
    return this.#move(destination, { after: options.after, before: options.before, limit });
  }

  *moveGenerator(destination: string | Queue, options: GeneratorOptions = {}): Generator<Message, void, undefined> {
    const dest = this.#destination(destination);
    yield* this.#run("move", generatorLoop("move", options, this.config.generatorBatchSize), dest);
  }

  /** Without an id: delete every row of the queue (true if any). With an id: claim that pending message. */
  delete(options: { messageId?: bigint } = {}): boolean {
    validateQueueName(this.name);
    if (options.messageId !== undefined) return this.#claim({ exactId: options.messageId, limit: 1 }).length > 0;
    return this.#use((s) => s.deleteQueue(this.name)) > 0;
  }

  exists(): boolean {
    return this.stats().total > 0;
  }

  stats(): QueueStats {
    validateQueueName(this.name);
    return this.#use((s) => s.queueStats(this.name));
  }

  hasPending(after?: bigint): boolean {
    validateQueueName(this.name);
    return this.#use((s) => s.hasPending(this.name, after));
  }

  /** A fresh id, allocated (`meta.last_ts` advances) without writing a message. */
  generateTimestamp(): bigint {
    const ts = this.#use((s) => s.generateTimestamp());
    this.#lastTs = ts;
    return ts;
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
    if (this.#pending.length) this.#flush();
    this.#closed = true;
    if (this.#shared) releaseStore(this.#shared);
    this.#shared = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return this.name;
  }

  // --- internal ---

  #use<T>(fn: (store: SqliteStore) => T): T {
    if (this.#closed) throw new BackendError(`Queue '${this.name}' is closed`);
    try {
      if (this.persistent) return fn((this.#shared ??= acquireStore(this.#path, this.config)));
      const store = new SqliteStore(this.#path, this.config);
      try {
        return fn(store);
      } finally {
        store.close();
      }
    } catch (error) {
      throw asBackendError(error);
    }
  }

  #claim(sel: Selection): Message[] {
    validateQueueName(this.name);
    return this.#observe(this.#use((s) => s.claim(this.name, sel)));
  }

  #peek(sel: Selection): Message[] {
    validateQueueName(this.name);
    return this.#observe(this.#use((s) => s.peek(this.name, sel)));
  }

  #move(destination: string | Queue, sel: Selection): Message[] {
    const dest = this.#destination(destination);
    return this.#observe(this.#use((s) => s.move(this.name, dest, sel)));
  }

  #destination(destination: string | Queue): string {
    validateQueueName(this.name);
    const dest = typeof destination === "string" ? destination : destination.name;
    validateQueueName(dest);
    checkDestination(this.name, dest);
    return dest;
  }

  #observe(messages: Message[]): Message[] {
    for (const m of messages) if (this.#lastTs === undefined || m.ts > this.#lastTs) this.#lastTs = m.ts;
    return messages;
  }

  /**
   * Run a delivery loop on this queue. A reserved batch keeps its transaction
   * open across yields, so it needs one connection for its whole life.
   */
  *#run(kind: WalkKind, loop: Loop, destination?: string): Generator<Message, void, undefined> {
    validateQueueName(this.name);
    let batchStore: SqliteStore | undefined;
    const source: SyncSource = {
      take: (sel) => (kind === "claim" ? this.#claim(sel) : kind === "peek" ? this.#peek(sel) : this.#move(destination!, sel)),
      reserve: (sel) => {
        batchStore ??= this.persistent ? (this.#shared ??= acquireStore(this.#path, this.config)) : new SqliteStore(this.#path, this.config);
        const batch = batchStore.reserve(this.name, sel, destination);
        this.#observe(batch.messages);
        return batch;
      },
      putBack: (m) => void this.#use((s) => putBack(s, this.name, m, destination)),
    };
    try {
      yield* iterateSync(loop, source);
    } finally {
      if (batchStore && !this.persistent) batchStore.close();
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    try {
      const ids = this.#use((s) => s.write(this.name, batch.map((p) => p.body)));
      this.#lastTs = ids[ids.length - 1];
      batch.forEach((p, i) => p.resolve(ids[i]!));
      this.#afterWrites(ids.length);
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }

  #afterWrites(n: number): void {
    if (!this.persistent || !this.config.autoVacuum) return;
    this.#writesSinceVacuum += n;
    if (this.#writesSinceVacuum < this.config.autoVacuumInterval) return;
    this.#writesSinceVacuum = 0;
    if (this.#shared) autoVacuum(this.#shared, this.config);
  }
}
