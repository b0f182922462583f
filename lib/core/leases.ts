/**
 * The lease and delay part of the {@link import("./types.ts").Backend}
 * contract (docs/leases.md): a message taken for a bounded time instead of
 * for good, and a message written to become visible later.
 *
 * Model, the same on every backend:
 * - A *held* message is out of its queue's pending set: no read, peek
 *   (without `includeClaimed`), move, watcher or SimpleBroker 3.6.1 process
 *   sees it as pending, and no vacuum removes it. It is held either under a
 *   lease (it has a `token`) or as a delayed message (no token).
 * - A held message keeps its id. When it comes back (lease deadline passed,
 *   release, delay due) it is pending again under that same id, so it takes
 *   its original place in the queue's order.
 * - `attempt` counts leases taken of one message: 1 on the first lease, +1
 *   on each lease after it came back. Ack, plain read and delete forget it.
 * - Nobody runs a daemon: every reader of a queue (claim, peek, lease,
 *   move, stats, a watcher's check) first returns the held messages of that
 *   queue that are due ({@link LeaseCapabilities.promoteDue}); it must be
 *   cheap when nothing is due and free when a store never held anything.
 * - Times are milliseconds since the epoch on the store's clock where it
 *   has one (PostgreSQL `clock_timestamp()`, Redis `TIME`), else the
 *   process's `Date.now()` (SQLite).
 * @module
 */
/** A message and its id, as in types.ts (restated here so the two files do not import each other). */
interface Message {
  body: string;
  ts: bigint;
}

/** A message taken under a lease. */
export interface LeasedMessage extends Message {
  /** 1 on the first lease of this message, then +1 each time it was leased again after coming back. */
  attempt: number;
  /** When the lease ends unless acked, released or extended (ms since the epoch). */
  deadlineMs: number;
  /** This lease's token: ack/release/extend/deadLetter given a token act only while that lease holds the message. */
  token: string;
}

/** When a delayed message falls due: at a time, or after a delay measured on the store's clock. */
export type DueTime = { atMs: number } | { delayMs: number };

/** Counts of held messages in one queue. */
export interface HeldStats {
  queue: string;
  /** Messages under a lease. */
  leased: number;
  /** Messages waiting for their delay (delayed writes and delayed releases). */
  scheduled: number;
}

/** Which pending messages a lease takes (oldest first, like a claim). */
export interface LeaseSelection {
  /** How long the lease lasts (ms, > 0). */
  leaseMs: number;
  /** At most this many messages (default 1). */
  limit?: number;
  /** Exactly the pending message with this id. */
  exactId?: bigint;
  /** Only ids greater than this. */
  after?: bigint;
  /** Only ids less than this. */
  before?: bigint;
}

/**
 * Optional capabilities for leases and delays. A backend has all of them
 * or none; shared code checks `lease` and refuses lease/delay features with
 * a BackendError naming the backend when it is absent.
 */
export interface LeaseCapabilities {
  /**
   * Return the due held messages of `queue` first, then take the oldest
   * pending messages matching `selection` under a new lease (one token for
   * the batch, deadline now + leaseMs), in one transaction. Empty when none.
   */
  lease?(queue: string, selection: LeaseSelection): Promise<LeasedMessage[]>;
  /**
   * Delete leased messages for good (the work is done). Only messages under
   * a lease count (and, with `token`, only that lease). Returns the ids acked,
   * in id order.
   */
  ack?(queue: string, ids: readonly bigint[], token?: string): Promise<bigint[]>;
  /**
   * End leases without acking: the messages are pending again at once, or
   * after `delayMs` (held without a token until then). Same id, attempt kept.
   * Returns the ids released, in id order.
   */
  release?(queue: string, ids: readonly bigint[], options?: { delayMs?: number; token?: string }): Promise<bigint[]>;
  /** Set a lease's deadline to now + `leaseMs`. False when the message is not under that lease any more. */
  extend?(queue: string, id: bigint, leaseMs: number, token?: string): Promise<boolean>;
  /**
   * End leases by moving the messages to `target` as pending messages, same
   * id (dead letters); `target` is created when needed. Returns the ids moved.
   */
  deadLetter?(queue: string, ids: readonly bigint[], target: string, token?: string): Promise<bigint[]>;
  /**
   * Write bodies that stay held (invisible to every reader) until `due`: a
   * time (`atMs`, ms since the epoch), or a delay from now on the store's own
   * clock (`delayMs`), so a client clock that is off does not shorten it.
   * Ids are allocated now, from the same clock as every write, in one
   * transaction; they are the ids the messages are delivered under.
   */
  writeDelayed?(queue: string, bodies: readonly string[], due: DueTime): Promise<bigint[]>;
  /**
   * Return every held message of `queue` (all queues when omitted) whose
   * deadline or due time has passed to pending, same id. Returns how many.
   */
  promoteDue?(queue?: string): Promise<number>;
  /** Held counts per queue with any held message (one queue when named). */
  heldStats?(queue?: string): Promise<HeldStats[]>;
  /**
   * Held messages of `queue` in id order (inspection: `peek --include-claimed`),
   * at most `limit` after `after`. `leased` tells a lease from a delay.
   */
  peekHeld?(
    queue: string,
    options: { after?: bigint; limit: number },
  ): Promise<Array<Message & { leased: boolean; dueMs: number; attempt: number }>>;
}
