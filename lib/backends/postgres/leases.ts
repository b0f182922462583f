/**
 * Leases and delays on PostgreSQL (docs/leases.md#postgresql): the
 * {@link LeaseCapabilities} of the backend, one transaction per transition,
 * and the lazy return of due held messages that every reader of a queue
 * does first.
 * @module
 */
import type { SQL } from "bun";
import { ArgumentError } from "../../core/errors.ts";
import type { DueTime, HeldStats, LeaseCapabilities, LeasedMessage, LeaseSelection } from "../../core/leases.ts";
import type { Message } from "../../core/types.ts";
import { nextHybridTimestamps } from "../../time/timestamp.ts";
import { waitWithDue } from "../due-wait.ts";
import {
  ackSql,
  extendSql,
  type HeldRow,
  heldStatsSql,
  leaseSql,
  peekHeldSql,
  promoteSql,
  releaseSql,
  untilDueSql,
  writeDelayedSql,
} from "./lease-sql.ts";
import { decodeBody, encodeBody, lockMetaSql, type Statement } from "./ops.ts";

type Run = <T>(op: (db: SQL) => Promise<T>) => Promise<T>;
type HeldMessage = Message & { leased: boolean; dueMs: number; attempt: number };

/** Rows without the all-NULL marker of ops.ts `dueMarker`. */
export function withoutMarkers<R extends { ts: bigint | null }[]>(rows: R): R {
  return rows.filter((r) => r.ts !== null) as R;
}

/** The largest message id (a BIGINT). */
const MAX_ID = (1n << 63n) - 1n;
const ids = (rows: { ts: bigint }[]): bigint[] => rows.map((r) => r.ts);

/** The held messages of one schema: lazy promotion for readers, and the lease capabilities. */
export class PgHeld {
  readonly #run: Run;
  readonly #s: string;
  readonly #channel: string;

  /** `run` runs an operation on the backend's pool (schema ensured, errors wrapped). */
  constructor(run: Run, s: string, channel: string) {
    this.#run = run;
    this.#s = s;
    this.#channel = channel;
  }

  /** Return the due held messages of `queue` (or of each of a list; all queues when undefined) to pending; how many came back. */
  async promote(db: SQL, queue?: string | readonly string[]): Promise<number> {
    const st = promoteSql(this.#s, this.#channel, queue);
    return (await db.unsafe(st.text, st.params)).length;
  }

  /**
   * Run a pending-row statement built with the due guard and its marker
   * (ops.ts `where`, `dueMarker`): when the marker row says a held message of
   * the queue is due (the statement then took nothing), return those first
   * and run it once more. Marker rows never reach the caller.
   */
  async afterDue<R extends { ts: bigint | null }[]>(db: SQL, queue: string, st: Statement): Promise<R> {
    const rows: R = await db.unsafe(st.text, st.params);
    if (!rows.some((r) => r.ts === null)) return rows;
    await this.promote(db, queue);
    return withoutMarkers<R>(await db.unsafe(st.text, st.params));
  }

  /** Return the due held messages of `queue` (all when undefined), then run `st`. */
  async promoted<R extends unknown[]>(db: SQL, queue: string | undefined, st: Statement): Promise<R> {
    await this.promote(db, queue);
    return db.unsafe(st.text, st.params);
  }

  /** Return the due held messages of `queues`, then the milliseconds until the next one is due (undefined: none held). */
  untilDue(queues: readonly string[]): Promise<number | undefined> {
    const st = untilDueSql(this.#s, queues);
    return this.#run(async (db) => {
      await this.promote(db, queues);
      const [row] = await db.unsafe(st.text, st.params);
      return row?.ms === null || row?.ms === undefined ? undefined : Number(row.ms);
    });
  }

  /** A native wait (`wait`) that also ends, true, when a held message of `queues` becomes due (due-wait.ts). */
  wait(
    queues: string[],
    timeoutMs: number,
    signal: AbortSignal | undefined,
    wait: (timeoutMs: number, signal: AbortSignal) => Promise<boolean>,
  ): Promise<boolean> {
    return waitWithDue(timeoutMs, signal, wait, () => this.untilDue(queues));
  }

  /** The capability methods, bound to this schema. */
  capabilities(): Required<LeaseCapabilities> {
    return {
      lease: (queue, sel) => this.lease(queue, sel),
      ack: (queue, list, token) => this.#ids(list, (l) => ackSql(this.#s, queue, l, token)),
      release: (queue, list, opts = {}) => this.#ids(list, (l) => releaseSql(this.#s, this.#channel, queue, l, opts)),
      extend: async (queue, id, leaseMs, token) =>
        (await this.#ids([id], ([one]) => extendSql(this.#s, queue, one!, leaseMs, token))).length > 0,
      deadLetter: (queue, list, target, token) =>
        this.#ids(list, (l) => releaseSql(this.#s, this.#channel, queue, l, { token, target })),
      writeDelayed: (queue, bodies, due) => this.writeDelayed(queue, bodies, due),
      promoteDue: (queue) => this.#run((db) => this.promote(db, queue)),
      heldStats: (queue) => this.heldStats(queue),
      peekHeld: (queue, opts) => this.peekHeld(queue, opts),
    };
  }

  /** Return the queue's due messages, then take pending ones under one new token, in one transaction. */
  async lease(queue: string, sel: LeaseSelection): Promise<LeasedMessage[]> {
    if (!(sel.leaseMs > 0)) throw new ArgumentError("A lease needs a duration above 0 ms");
    if (sel.exactId === undefined ? Math.trunc(sel.limit ?? 1) < 1 : !(sel.exactId > 0n && sel.exactId <= MAX_ID)) return [];
    const token = crypto.randomUUID();
    const rows: HeldRow[] = await this.#run((db) =>
      db.begin(async (tx) => {
        await this.promote(tx, queue);
        const st = leaseSql(this.#s, queue, sel, token);
        return tx.unsafe(st.text, st.params);
      }),
    );
    return rows.map((r) => ({
      body: decodeBody(r.body),
      ts: r.ts,
      attempt: Number(r.attempt),
      deadlineMs: Number(r.due),
      token,
    }));
  }

  /** Delayed messages under ids allocated now with `meta` locked, as every write does. */
  async writeDelayed(queue: string, bodies: readonly string[], due: DueTime): Promise<bigint[]> {
    if (bodies.length === 0) return [];
    return this.#run((db) =>
      db.begin(async (tx) => {
        const list = nextHybridTimestamps((await tx.unsafe(lockMetaSql(this.#s)))[0].last_ts, bodies.length);
        const st = writeDelayedSql(this.#s, this.#channel, queue, bodies.map(encodeBody), list, due);
        await tx.unsafe(st.text, st.params);
        return list;
      }),
    );
  }

  async heldStats(queue?: string): Promise<HeldStats[]> {
    const st = heldStatsSql(this.#s, queue);
    const rows: { queue: string; leased: bigint; scheduled: bigint }[] = await this.#run(async (db) => {
      await this.promote(db, queue);
      return db.unsafe(st.text, st.params);
    });
    return rows.map((r) => ({ queue: r.queue, leased: Number(r.leased), scheduled: Number(r.scheduled) }));
  }

  async peekHeld(queue: string, opts: { after?: bigint; limit: number }): Promise<HeldMessage[]> {
    const st = peekHeldSql(this.#s, queue, opts.after, opts.limit);
    const rows: HeldRow[] = await this.#run(async (db) => {
      await this.promote(db, queue);
      return db.unsafe(st.text, st.params);
    });
    return rows.map((r) => ({
      body: decodeBody(r.body),
      ts: r.ts,
      leased: r.token !== null,
      dueMs: Number(r.due),
      attempt: Number(r.attempt),
    }));
  }

  // --- internal ---

  /** Run a transition over the possible ids of `list` (none: nothing to do); it returns ids. */
  async #ids(list: readonly bigint[], build: (possible: bigint[]) => Statement): Promise<bigint[]> {
    const possible = list.filter((id) => id > 0n && id <= MAX_ID);
    if (possible.length === 0) return [];
    const st = build(possible);
    return ids(await this.#run((db) => db.unsafe(st.text, st.params)));
  }
}
