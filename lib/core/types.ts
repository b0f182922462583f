/**
 * Shared types: messages, selections, statistics, configuration and the
 * {@link Backend} contract every storage engine implements.
 * @module
 */

/** A message id: the 64-bit hybrid timestamp (docs/on-disk-format.md#message-ids), always a bigint. */
export type MessageId = bigint;

/** One message as stored: its body and its id (`ts`). */
export interface Message {
  body: string;
  ts: bigint;
}

/** Which rows an operation selects. Only unclaimed rows unless stated. */
export interface Selection {
  /** At most this many rows (default 1). */
  limit?: number;
  /** Skip this many rows (peek pages only). */
  offset?: number;
  /** Only rows with `ts > after` (strict). */
  after?: bigint;
  /** Only rows with `ts < before` (strict). */
  before?: bigint;
  /** Exactly the row with this id. */
  exactId?: bigint;
  /** For moves by exact id: false lets a claimed row be moved (revived). Default true. */
  requireUnclaimed?: boolean;
  /** For peeks only: also show claimed rows not yet vacuumed, in id order (inspection only). */
  includeClaimed?: boolean;
}

/** What a {@link BackendCapabilities.rename} changed. */
export interface RenameResult {
  /** Rows retagged, pending and claimed. */
  messages: number;
  /** Aliases whose target was the old name and now is the new one. */
  aliases: number;
}

/** Counts for one queue. A queue exists while it has at least one row. */
export interface QueueStats {
  queue: string;
  pending: number;
  claimed: number;
  total: number;
  exists: boolean;
}

/** What `--status` reports. */
export interface BrokerStatus {
  totalMessages: number;
  lastTimestamp: bigint;
  /** Size in bytes of the main store (SQLite: the file without -wal). */
  dbSize: number;
  persistence?: "none" | "aof" | "rdb" | "aof+rdb" | "unknown"; // what a Redis server keeps on disk (docs/redis.md#durability)
}

/** A batch claimed or moved inside an open transaction (at-least-once delivery). */
export interface Reservation {
  readonly messages: Message[];
  /** Make the claim/move permanent. */
  commit(): Promise<void>;
  /** Put every message of the batch back as it was. */
  rollback(): Promise<void>;
}

/** The queues a {@link Backend.broadcast} writes to, chosen before its transaction. */
export interface BroadcastTargets {
  /** Candidate queues, in the order their ids are assigned; those without rows are skipped. */
  queues: readonly string[];
  /** Every queue name the candidates were chosen from: a queue outside it with rows makes the broadcast return -1. */
  listed?: readonly string[];
}

/** Result of a vacuum pass. */
export interface VacuumResult {
  /** Claimed rows physically removed. */
  vacuumed: number;
  /** False when another process held the vacuum lock and nothing was done. */
  ran: boolean;
}

/**
 * The storage contract: a required core every backend implements, plus
 * optional capabilities that shared code detects by their presence and falls
 * back from when absent (see docs/backend-contract.md). Shared code never
 * asks which backend it has, only what it can do. Every method may throw a
 * {@link import("./errors.ts").BrokerError}.
 */
export interface Backend extends BackendCapabilities {
  /** Backend name, as shown to users (`sqlite`, `postgres`, `redis`, or an outside backend's own). */
  readonly name: string;
  /** The target as shown to users (passwords redacted). */
  readonly displayTarget: string;
  /** Create or verify the schema / namespace. Idempotent. */
  init(): Promise<void>;
  /** Release connections. Idempotent. */
  close(): Promise<void>;

  /** Append messages to a queue in one transaction; returns their new ids in order. */
  write(queue: string, bodies: string[]): Promise<bigint[]>;
  /** Claim (read) up to `limit` oldest matching pending messages, committed before returning. */
  claim(queue: string, selection: Selection): Promise<Message[]>;
  /** Return matching pending messages without changing them. */
  peek(queue: string, selection: Selection): Promise<Message[]>;
  /** Move matching messages to `target` (pending there), committed before returning. */
  move(source: string, target: string, selection: Selection): Promise<Message[]>;
  /** Physically delete every row of one queue, or of all queues when `queue` is undefined. */
  deleteQueue(queue?: string): Promise<number>;
  /**
   * Write `body` once to every queue that has rows, or with `targets` only to
   * those of `targets.queues` that have rows; one transaction, ids ascending
   * in that order. Returns how many queues got it, or -1 (nothing written)
   * when `targets.listed` is given and another queue has rows by then.
   * Names are chosen by the caller, never matched inside the transaction.
   */
  broadcast(body: string, targets?: BroadcastTargets): Promise<number>;

  /**
   * Stats of every queue with at least one row, sorted by name. `prefix` is a
   * hint: a backend may leave out queues not starting with it (a range scan);
   * the caller filters names itself (see lib/queue/queue-filter.ts).
   */
  listStats(filter?: { prefix?: string }): Promise<QueueStats[]>;
  /** Stats of one queue (zeros when it does not exist). */
  queueStats(queue: string): Promise<QueueStats>;
  /** Whether the queue has a pending message (with `ts > after`). */
  hasPending(queue: string, after?: bigint): Promise<boolean>;
  /** Totals over the whole store. */
  status(): Promise<BrokerStatus>;

  /** Allocate a fresh id without writing a message. */
  generateTimestamp(): Promise<bigint>;
  /** The highest id ever allocated (`meta.last_ts`). */
  lastTimestamp(): Promise<bigint>;

  /** Aliases sorted by alias name. */
  listAliases(): Promise<Array<[alias: string, target: string]>>;
  /** Target of an alias, or undefined. */
  resolveAlias(alias: string): Promise<string | undefined>;
  /** Add an alias (validates existing / alias-of-alias / cycles inside one transaction). */
  addAlias(alias: string, target: string): Promise<void>;
  /** Remove an alias; false when it did not exist. */
  removeAlias(alias: string): Promise<boolean>;
}

/** The optional part of {@link Backend}: each member is a capability, detected by its presence. */
export interface BackendCapabilities extends LeaseCapabilities {
  /**
   * Reservations: claim or move a batch but keep it revocable until
   * commit/rollback (at-least-once batches). Without it the batch is claimed
   * at once and a rollback puts each message back by id.
   */
  reserve?(queue: string, selection: Selection, moveTo?: string): Promise<Reservation>;
  /** Maintenance: delete claimed rows; `compact` also reclaims space. Without it `--vacuum` does nothing. */
  vacuum?(compact?: boolean): Promise<VacuumResult>;
  /** Cleanup: remove the store itself (file, schema or namespace). False when nothing existed. */
  cleanup?(): Promise<boolean>;
  /**
   * Native wake-ups: resolve true when something may have changed for these
   * queues, false after `timeoutMs` or on abort. Watchers then poll slowly
   * as a safety net only. Without it (and without {@link onActivity}) they poll.
   */
  waitForActivity?(queues: string[], timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /**
   * Activity hints: call `listener` with a queue name (`*` = any) whenever
   * something may have changed, until the returned function is called. Hints
   * may come early or be missed, so watchers keep their quick poll.
   */
  onActivity?(listener: (queue: string) => void): () => void;
  /** Data version: a counter that changes whenever another connection commits (SQLite `data_version`). */
  dataVersion?(): Promise<bigint>;
  /**
   * In-process hand-over: offer an idle watcher to writers of this process;
   * a single-message write to `queue` may hand its message straight to it
   * (see {@link IdleConsumer}). Returns the function that withdraws the offer.
   */
  offerIdle?(queue: string, consumer: IdleConsumer): () => void;
  /**
   * Rename: retag every row of `source` (pending and claimed) to `target` in
   * one transaction, and with `retargetAliases` point the aliases of `source`
   * at `target` (bumping the alias version). Throws an ArgumentError
   * `Target queue already exists` when `target` has any row; returns zero
   * messages (changing nothing) when `source` has none. Without it renaming
   * is refused with a BackendError naming the backend.
   */
  rename?(source: string, target: string, retargetAliases: boolean): Promise<RenameResult>;
  /**
   * Load: insert dump records under their own ids, in one transaction where
   * the store has them (see docs/dump-format.md), and raise `last_ts` to at
   * least `input.lastTs`. Without it `load` is refused with a BackendError.
   */
  load?(input: LoadInput): Promise<LoadResult>;
  /** Local file: the store is this file on this machine (absolute path). */
  readonly localFile?: string;
}

/** One record of a dump being loaded, already validated, with its 1-based line number. */
export type LoadRecord =
  | { kind: "alias"; alias: string; target: string; line: number }
  | { kind: "message"; queue: string; body: string; id: bigint; line: number };

/** What {@link BackendCapabilities.load} applies. */
export interface LoadInput {
  /** The header's `last_ts`: the store's `last_ts` becomes at least this. */
  lastTs: bigint;
  /** The records in dump order; iterating may throw (bad input), which must leave the store as it was. */
  records: AsyncIterable<LoadRecord>;
  /** The error for a record the store refuses (`problem`: e.g. a duplicate id), with the caller's line number. */
  reject(record: LoadRecord, problem: string): Error;
}

/** What a load applied. */
export interface LoadResult {
  messages: number;
  aliases: number;
}

/**
 * A watcher of this process waiting on a queue with nothing left for it. A
 * single-message write to that queue through any connection of this process
 * hands the message over directly, decided inside the write's transaction when
 * nothing older is pending for the watcher (like a Redis BLPOP client served
 * by the push itself): a consuming watcher gets it inserted already claimed,
 * saving its claim transaction and fsync; a peeking watcher gets a copy,
 * saving the re-read of the pages the write changed.
 */
export interface IdleConsumer {
  /** Only messages with a greater id are handed over (the watch's `after`, or the last id a peek saw). */
  readonly after: bigint | undefined;
  /** True for a consuming watcher: the message is inserted claimed for it. */
  readonly claims: boolean;
  /** Receive the message after the commit. Called at most once: the offer ends with it. */
  accept(message: Message): void;
}

/**
 * How a backend is defined: by name, a factory, and how its target is
 * written. Built-in backends and modules named by `BROKER_BACKEND` or
 * `backend = "<module>"` in `.broker.toml` export one (see `defineBackend`).
 */
export interface BackendDefinition {
  /** The name users see in messages. */
  readonly name: string;
  /** Create the backend for a resolved target. Connect lazily (on first use), close idempotently. */
  create(target: BrokerTarget, config: BrokerConfig): Backend | Promise<Backend>;
  /**
   * The target and options of this backend from the configuration: `target`
   * is `.broker.toml`'s `target` (or "" when the target comes from
   * `BROKER_BACKEND_TARGET` and its parts), `options` its `backend_options`.
   * Default: the target as written (else `BROKER_BACKEND_TARGET`), options as written.
   */
  resolveTarget?(input: { config: BrokerConfig; target: string; options: Record<string, unknown> }): {
    target: string;
    backendOptions: Record<string, unknown>;
  };
}

/**
 * A built-in backend whose target is a local file (SQLite): `-d`/`-f`, the
 * default database name and location, and a relative `.broker.toml` target
 * (taken from the file's folder) apply, and the CLI checks an existing file
 * before use. Backends from outside are addressed by a target string instead.
 */
export interface FileBackendDefinition extends BackendDefinition {
  readonly files: LocalFiles;
}

/** What the CLI asks of a backend whose target is a local file. */
export interface LocalFiles {
  /** True when `path` holds an initialised store of this backend. Never throws. */
  isStore(path: string): boolean;
  /** Throw a BackendError when the existing file at `path` cannot be opened as a store (`strict`: also require its marker). */
  check(path: string, strict: boolean): void;
}

export type { BrokerConfig, SyncMode } from "./broker-config.ts";
export type { DueTime, HeldStats, LeaseCapabilities, LeasedMessage, LeaseSelection } from "./leases.ts";
import type { LeaseCapabilities } from "./leases.ts";
import type { BrokerConfig } from "./broker-config.ts";

/** Where a broker lives: which backend and which file / URL. */
export interface BrokerTarget {
  /** `sqlite`, `postgres`, `redis`, or the absolute file of a backend module from outside. */
  backendName: string;
  /** SQLite: absolute file path. Others: connection URL. */
  target: string;
  /** Backend options, e.g. `{ schema }` for postgres, `{ namespace }` for redis. */
  backendOptions: Record<string, unknown>;
  /** Project root when found by discovery or a config file, else null. */
  projectRoot: string | null;
  /** The `.broker.toml` used, else null. */
  configPath: string | null;
  /** True when found by project-scope discovery. */
  usedProjectScope: boolean;
  /** True for a plain `-d`/`-f` SQLite path (CLI path checks apply). */
  legacySqlitePathMode: boolean;
}
