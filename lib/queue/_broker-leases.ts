/**
 * Leases and delayed delivery on a {@link Broker}'s backend
 * (docs/leases.md#library-and-cli): operand resolution, input checks, and
 * the capability check that refuses with a BackendError naming the backend
 * when it has no lease capabilities. Inspection (held counts, held rows) is
 * empty instead on such a backend: nothing can be held there.
 * @module
 */
import { ArgumentError, BackendError } from "../core/errors.ts";
import type { DueTime, HeldStats, LeaseCapabilities, LeasedMessage, LeaseSelection } from "../core/leases.ts";
import type { Backend, BrokerConfig, Message } from "../core/types.ts";
import { validateMessageSize, validateQueueName } from "../core/validate.ts";
import { checkDestination } from "../delivery/ops.ts";
import { compileGlob } from "../util/glob.ts";
import { LeaseWaiter, nudgeWaiters } from "./_lease-wait.ts";

/** A held message as inspection shows it. */
export type HeldMessage = Message & { leased: boolean; dueMs: number; attempt: number };

/** The lease capabilities of `backend`, or a BackendError naming it. */
export function leaseCapabilities(backend: Backend): Required<LeaseCapabilities> {
  if (!backend.lease) throw new BackendError(`The ${backend.name} backend has no leases or delayed delivery`);
  return backend as Backend & Required<LeaseCapabilities>;
}

/** A lease length or delay in ms: a finite number, > 0 for a lease, >= 0 for a delay. */
export function checkMs(ms: number, what: "leaseMs" | "delayMs"): number {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0 || (what === "leaseMs" && ms <= 0)) {
    throw new ArgumentError(`${what} must be a ${what === "leaseMs" ? "positive" : "non-negative"} number of milliseconds`);
  }
  return Math.ceil(ms);
}

/** The due time of a delayed write: `{ delayMs }` from now or `{ at }` (a Date or ms since the epoch). */
export function dueTime(options: { delayMs?: number; at?: Date | number }): DueTime | undefined {
  if (options.delayMs !== undefined && options.at !== undefined) throw new ArgumentError("Give delayMs or at, not both");
  if (options.delayMs !== undefined) return checkMs(options.delayMs, "delayMs") > 0 ? { delayMs: options.delayMs } : undefined;
  if (options.at === undefined) return undefined;
  const at = typeof options.at === "number" ? options.at : options.at.getTime();
  if (!Number.isFinite(at)) throw new ArgumentError("at must be a valid time");
  return at > Date.now() ? { atMs: at } : undefined;
}

/** Lease operations of one broker; queue operands may be `@aliases`. Get it as `broker.leases`. */
export class BrokerLeases {
  readonly #backend: Backend;
  readonly #config: BrokerConfig;
  readonly #resolve: (name: string) => Promise<string>;

  constructor(backend: Backend, config: BrokerConfig, resolve: (name: string) => Promise<string>) {
    this.#backend = backend;
    this.#config = config;
    this.#resolve = resolve;
  }

  /** The store as users see it (passwords redacted). */
  get displayTarget(): string {
    return this.#backend.displayTarget;
  }

  /** True when the backend has the lease capabilities. */
  get available(): boolean {
    return this.#backend.lease !== undefined;
  }

  /** Take pending messages of `queue` under a lease (oldest first; see LeaseSelection). */
  async lease(queue: string, selection: LeaseSelection): Promise<LeasedMessage[]> {
    const caps = leaseCapabilities(this.#backend);
    const leaseMs = checkMs(selection.leaseMs, "leaseMs");
    if (selection.limit !== undefined && (!Number.isInteger(selection.limit) || selection.limit < 1)) {
      throw new ArgumentError("limit must be at least 1");
    }
    return caps.lease(await this.#resolve(queue), { ...selection, leaseMs });
  }

  /** Delete leased messages for good; returns the ids acked. */
  async ack(queue: string, ids: readonly bigint[], token?: string): Promise<bigint[]> {
    const caps = leaseCapabilities(this.#backend);
    return ids.length ? caps.ack(await this.#resolve(queue), ids, token) : [];
  }

  /** End leases without acking (pending again now, or after `delayMs`); returns the ids released. */
  async release(queue: string, ids: readonly bigint[], options: { delayMs?: number; token?: string } = {}): Promise<bigint[]> {
    const caps = leaseCapabilities(this.#backend);
    const delayMs = options.delayMs === undefined ? undefined : checkMs(options.delayMs, "delayMs");
    if (!ids.length) return [];
    const q = await this.#resolve(queue);
    const done = await caps.release(q, ids, { delayMs, token: options.token });
    if (done.length && delayMs) nudgeWaiters(this.#backend, q);
    return done;
  }

  /** Push a lease's deadline to now + `leaseMs`; false when that lease no longer holds the message. */
  async extend(queue: string, id: bigint, leaseMs: number, token?: string): Promise<boolean> {
    const caps = leaseCapabilities(this.#backend);
    return caps.extend(await this.#resolve(queue), id, checkMs(leaseMs, "leaseMs"), token);
  }

  /** End leases by moving the messages to `target` (created when needed), same ids. */
  async deadLetter(queue: string, ids: readonly bigint[], target: string, token?: string): Promise<bigint[]> {
    const caps = leaseCapabilities(this.#backend);
    const src = await this.#resolve(queue);
    const dst = await this.#resolve(target);
    checkDestination(src, dst, { message: "The dead-letter queue cannot be the queue itself" });
    return ids.length ? caps.deadLetter(src, ids, dst, token) : [];
  }

  /** Write bodies that stay invisible until `due` (a time, or a delay on the store's clock); returns their ids. */
  async writeDelayed(queue: string, bodies: readonly string[], due: DueTime): Promise<bigint[]> {
    const caps = leaseCapabilities(this.#backend);
    const q = await this.#resolve(queue);
    for (const b of bodies) validateMessageSize(b, this.#config.maxMessageSize);
    if (!Number.isFinite("atMs" in due ? due.atMs : due.delayMs)) throw new ArgumentError("The due time must be a valid time");
    const ids = await caps.writeDelayed(q, bodies, due);
    nudgeWaiters(this.#backend, q);
    return ids;
  }

  /**
   * Delayed `broadcast`: `body`, due at `due`, to every existing queue
   * (matching the glob `pattern`), or to each of `{ queues }` that exists.
   * One delayed write per queue; returns how many queues got it.
   */
  async broadcastDelayed(
    body: string,
    pattern: string | { queues: readonly string[] } | undefined,
    due: DueTime,
  ): Promise<number> {
    const caps = leaseCapabilities(this.#backend);
    validateMessageSize(body, this.#config.maxMessageSize);
    if (typeof pattern === "object") for (const q of pattern.queues) validateQueueName(q);
    const glob = typeof pattern === "string" && pattern !== "" ? compileGlob(pattern) : undefined;
    const wanted = typeof pattern === "object" ? new Set(pattern.queues) : undefined;
    const existing = (await this.#backend.listStats()).map((s) => s.queue);
    const queues = existing.filter((q) => (wanted ? wanted.has(q) : !glob || glob.test(q)));
    for (const q of queues) {
      await caps.writeDelayed(q, [body], due);
      nudgeWaiters(this.#backend, q);
    }
    return queues.length;
  }

  /** Held (leased, scheduled) counts per queue with any held message; one queue when named. */
  async heldStats(queue?: string): Promise<HeldStats[]> {
    if (!this.#backend.heldStats) return [];
    return this.#backend.heldStats(queue === undefined ? undefined : await this.#resolve(queue));
  }

  /** Held messages of `queue` in id order, at most `limit` after `after` (inspection). */
  async peekHeld(queue: string, options: { after?: bigint; limit: number }): Promise<HeldMessage[]> {
    if (!this.#backend.peekHeld) return [];
    return this.#backend.peekHeld(await this.#resolve(queue), options);
  }

  /** Return the due held messages of `queue` (every queue when omitted) to pending; how many. */
  async promoteDue(queue?: string): Promise<number> {
    if (!this.#backend.promoteDue) return 0;
    return this.#backend.promoteDue(queue === undefined ? undefined : await this.#resolve(queue));
  }

  /** A waiter for new work on `queue` (name resolved): wake-ups as watchers get them, and held messages falling due. */
  waiter(queue: string): LeaseWaiter {
    leaseCapabilities(this.#backend);
    return new LeaseWaiter(this.#backend, this.#config, queue);
  }
}
