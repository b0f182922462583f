/**
 * `Broker`: the backend-agnostic, async face of one store (SQLite file,
 * Postgres schema or Redis namespace). It validates input, resolves `@alias`
 * operands, and delegates to the {@link Backend}. The CLI runs on it;
 * libraries use it through {@link openBroker} for cross-queue work.
 * @module
 */
import type { AsyncQueue } from "./async-queue.ts";
import { cleanupStore, renameQueue, reserveBatch, vacuumStore } from "../backends/capabilities.ts";
import { ArgumentError } from "../core/errors.ts";
import type {
  Backend,
  BrokerConfig,
  BrokerStatus,
  BrokerTarget,
  LoadResult,
  Message,
  QueueStats,
  Reservation,
  Selection,
  VacuumResult,
} from "../core/types.ts";
import { validateMessageSize, validateQueueName } from "../core/validate.ts";
import { broadcastMatching, listQueues, type QueueFilter } from "./queue-filter.ts";
import { deleteMany, findMessageIds, latestPendingTimestamp, type FindOptions } from "./_inspect.ts";
import { deliverEach, iterateAsync, type DeliveryResult } from "../delivery/drive.ts";
import { batches, walk, type Loop, type WalkKind } from "../delivery/loops.ts";
import type { DeliveryPlan } from "../delivery/plan.ts";
import { backendSource, checkDestination } from "../delivery/ops.ts";
import type { WatchMode } from "../watch/watch-source.ts";
import { BrokerLeases } from "./_broker-leases.ts";
import type { QueueHost } from "./_host.ts";
import type { DumpFilter } from "../dump/dump.ts"; // dump, load and watching are imported when first used
import type { LoadOptions } from "../dump/load.ts";
import { addAlias } from "./_aliases.ts";

export type { DeliveryPlan } from "../delivery/plan.ts";

/** An open store with every cross-queue operation. Close it, or use `await using`. */
export class Broker implements AsyncDisposable, QueueHost {
  readonly backend: Backend;
  readonly config: BrokerConfig;
  readonly target: BrokerTarget | undefined;
  #leases: BrokerLeases | undefined;

  constructor(backend: Backend, config: BrokerConfig, target?: BrokerTarget) {
    this.backend = backend;
    this.config = config;
    this.target = target;
  }

  /** The target as shown to users (passwords redacted). */
  get displayTarget(): string {
    return this.backend.displayTarget;
  }

  /** A handle on one queue of this broker, with promise-returning `Queue` methods. */
  queue(name: string): AsyncQueue {
    // Loaded on first use: the CLI's one-shot commands never need the queue/watcher modules.
    const { AsyncQueue: Impl } = require("./async-queue.ts") as typeof import("./async-queue.ts");
    return new Impl(this, name);
  }

  /** Leases, acks, releases and delayed writes (docs/leases.md#library-and-cli). */
  get leases(): BrokerLeases {
    return (this.#leases ??= new BrokerLeases(this.backend, this.config, (name) => this.resolveQueue(name)));
  }

  /** Resolve an operand: `@alias` → its target (one hop), then validate the queue name. */
  async resolveQueue(name: string): Promise<string> {
    if (name.startsWith("@")) {
      const alias = name.slice(1);
      if (alias === "") throw new ArgumentError("Alias name cannot be empty");
      const target = await this.backend.resolveAlias(alias);
      if (target === undefined) throw new ArgumentError(`Alias '${alias}' is not defined`);
      return target;
    }
    validateQueueName(name);
    return name;
  }

  /** Write one message or many (one transaction); returns the new ids. */
  async write(queue: string, body: string | string[]): Promise<bigint[]> {
    const q = await this.resolveQueue(queue);
    const bodies = typeof body === "string" ? [body] : body;
    for (const b of bodies) validateMessageSize(b, this.config.maxMessageSize);
    return this.backend.write(q, bodies);
  }

  /** Claim messages (exactly-once, committed before returning). */
  async read(queue: string, selection: Selection = {}): Promise<Message[]> {
    return this.backend.claim(await this.resolveQueue(queue), selection);
  }

  async peek(queue: string, selection: Selection = {}): Promise<Message[]> {
    return this.backend.peek(await this.resolveQueue(queue), selection);
  }

  /** Move messages from `source` to `target`; both operands may be `@aliases`. */
  async move(source: string, target: string, selection: Selection = {}): Promise<Message[]> {
    const [src, dst] = await this.resolvePair(source, target);
    return this.backend.move(src, dst, selection);
  }

  /** Resolve a source/destination pair, refusing the same queue twice. */
  async resolvePair(source: string, target: string): Promise<[string, string]> {
    const src = await this.resolveQueue(source);
    const dst = await this.resolveQueue(target);
    checkDestination(src, dst, { code: "INVALID_ARGUMENT" });
    return [src, dst];
  }

  /** Claim (or move) a batch that stays revocable until commit/rollback. */
  async reserve(queue: string, selection: Selection, moveTo?: string): Promise<Reservation> {
    return reserveBatch(this.backend, await this.resolveQueue(queue), selection, moveTo);
  }

  /**
   * The messages of a delivery loop (lib/delivery) over `queue`: claimed,
   * peeked or moved to `destination` (names resolved here), yielded one by one.
   */
  async *iterate(queue: string, kind: WalkKind, loop: Loop, destination?: string): AsyncGenerator<Message, void, undefined> {
    const [src, dst] = destination === undefined ? [await this.resolveQueue(queue)] : await this.resolvePair(queue, destination);
    yield* iterateAsync(loop, backendSource(this.backend, src, kind, dst));
  }

  /**
   * Walk or watch a queue, awaiting `deliver` for each message; a message
   * that does not reach it, or is taken after `signal` aborted, is put back
   * (see `deliverEach`).
   */
  async deliver(plan: DeliveryPlan, deliver: (message: Message) => Promise<void>, signal?: AbortSignal): Promise<DeliveryResult> {
    if (!("watch" in plan)) {
      const batched =
        plan.kind === "claim" && (plan.commitInterval ?? 1) > 1 && !plan.once && plan.selection.exactId === undefined;
      const loop = batched ? batches(plan.selection, plan.commitInterval!, true) : walk(plan);
      return deliverEach(loop, backendSource(this.backend, plan.queue, plan.kind, plan.destination), deliver, signal);
    }
    const stop = new AbortController();
    signal?.addEventListener("abort", () => stop.abort(signal.reason), { once: true });
    if (signal?.aborted) stop.abort(signal.reason);
    const { watchRun } = await import("../watch/watch-source.ts");
    const run = watchRun(this.backend, this.config, plan.queue, plan.watch, stop.signal);
    try {
      return await deliverEach(run.loop, run.source, deliver, stop.signal);
    } finally {
      await run.source.close();
    }
  }

  /** Messages of `queue` (name resolved) as they arrive, until `signal` aborts or the consumer stops. */
  async *watch(queue: string, mode: WatchMode, signal: AbortSignal): AsyncGenerator<Message, void, undefined> {
    const { watchRun } = await import("../watch/watch-source.ts");
    const run = watchRun(this.backend, this.config, queue, mode, signal);
    try {
      yield* iterateAsync(run.loop, run.source);
    } finally {
      await run.source.close();
    }
  }

  /** Physically delete one queue's rows, or every queue's when `queue` is omitted. */
  async delete(queue?: string): Promise<number> {
    return this.backend.deleteQueue(queue === undefined ? undefined : await this.resolveQueue(queue));
  }

  /** Claim (logically delete) one pending message by id; false when not found. */
  async deleteMessage(queue: string, id: bigint): Promise<boolean> {
    const rows = await this.backend.claim(await this.resolveQueue(queue), { exactId: id });
    return rows.length > 0;
  }

  /**
   * Write `body` to every existing queue (matching the glob `pattern`), or
   * with `{ queues }` to each of those names that exists (no `@aliases`),
   * in one transaction; returns how many queues got it.
   */
  async broadcast(body: string, pattern?: string | { queues: readonly string[] }): Promise<number> {
    validateMessageSize(body, this.config.maxMessageSize);
    if (typeof pattern !== "object") return broadcastMatching(this.backend, body, pattern);
    for (const q of pattern.queues) validateQueueName(q);
    return this.backend.broadcast(body, { queues: [...new Set(pattern.queues)] });
  }

  /**
   * Rename queue `source` (an `@alias` is resolved) to `target` in one
   * transaction, pending and claimed rows alike; aliases of `source` follow
   * unless `retargetAliases` is false. Zero messages: `source` had no rows.
   */
  async rename(
    source: string,
    target: string,
    options: { retargetAliases?: boolean } = {},
  ): Promise<{ messages: number; aliases: number }> {
    const src = await this.resolveQueue(source);
    validateQueueName(target);
    if (src === target) throw new ArgumentError("Source and target queues cannot be the same");
    return renameQueue(this.backend, src, target, options.retargetAliases ?? true);
  }

  /** Ids of the pending messages of `queue` matching `options`, oldest first. */
  async findMessageIds(queue: string, options: FindOptions = {}): Promise<bigint[]> {
    return findMessageIds(this.backend, await this.resolveQueue(queue), options);
  }

  /** Claim the pending messages of `queue` with these ids; returns how many were found. */
  async deleteMany(queue: string, ids: Iterable<bigint>): Promise<number> {
    return deleteMany(this.backend, await this.resolveQueue(queue), ids);
  }

  /** The newest pending id of `queue`, or undefined when nothing is pending. */
  async latestPendingTimestamp(queue: string): Promise<bigint | undefined> {
    return latestPendingTimestamp(this.backend, await this.resolveQueue(queue));
  }

  /** Stats of the queues with rows, filtered by a literal `prefix` or a glob `pattern`. */
  listStats(filter: QueueFilter = {}): Promise<QueueStats[]> {
    return listQueues(this.backend, filter);
  }

  async queueStats(queue: string): Promise<QueueStats> {
    return this.backend.queueStats(await this.resolveQueue(queue));
  }

  /** True when the queue has any message: pending, claimed, or held (leased, delayed). */
  async exists(queue: string): Promise<boolean> {
    return (await this.queueStats(queue)).total > 0 || (await this.leases.heldStats(queue)).length > 0;
  }

  async hasPending(queue: string, after?: bigint): Promise<boolean> {
    return this.backend.hasPending(await this.resolveQueue(queue), after);
  }

  /** Claimed and total rows over all queues. */
  async overallStats(): Promise<{ claimed: number; total: number }> {
    const all = await this.backend.listStats();
    return all.reduce((acc, s) => ({ claimed: acc.claimed + s.claimed, total: acc.total + s.total }), { claimed: 0, total: 0 });
  }

  status(): Promise<BrokerStatus> {
    return this.backend.status();
  }

  vacuum(compact = false): Promise<VacuumResult> {
    return vacuumStore(this.backend, compact);
  }

  generateTimestamp(): Promise<bigint> {
    return this.backend.generateTimestamp();
  }

  lastTimestamp(): Promise<bigint> {
    return this.backend.lastTimestamp();
  }

  /** The store as `simplebroker-dump` v1 lines, without newlines (docs/dump-format.md). */
  async *dump(filter: DumpFilter = {}): AsyncGenerator<string, void, undefined> {
    const { dumpLines } = await import("../dump/dump.ts");
    yield* dumpLines(this.backend, filter);
  }

  /** Load `simplebroker-dump` v1 lines (all-or-nothing where the backend has transactions). */
  async load(lines: AsyncIterable<string>, options: LoadOptions = {}): Promise<LoadResult> {
    const { loadDump } = await import("../dump/load.ts");
    return loadDump(this.backend, lines, options);
  }

  listAliases(): Promise<Array<[string, string]>> {
    return this.backend.listAliases();
  }

  /**
   * Add `alias` → `target` with SimpleBroker 3.6.1's validation order and messages.
   * Returns a warning text when a literal queue named `alias` has messages.
   */
  addAlias(alias: string, target: string): Promise<string | undefined> {
    return addAlias(this.backend, alias, target);
  }

  removeAlias(alias: string): Promise<boolean> {
    return this.backend.removeAlias(alias);
  }
  /** Create or verify the store (schema, namespace). Idempotent. */
  init(): Promise<void> {
    return this.backend.init();
  }

  /** Remove the store itself; false when there was nothing to remove (or the backend cannot). */
  cleanup(): Promise<boolean> {
    return cleanupStore(this.backend);
  }

  close(): Promise<void> {
    return this.backend.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
