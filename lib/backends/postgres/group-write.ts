/**
 * Group commit for PostgreSQL writes (docs/on-disk-format.md#postgres): the
 * `write` calls of one backend instance that arrive while a write is in
 * flight wait for it, then go to the server together as one statement —
 * one multi-row insert that locks `meta`, allocates every id, advances
 * `last_ts` and notifies, committed at once. Ids are allocated under the
 * `meta` row lock, held to the commit, so they increase in commit order
 * across processes; each call's ids are consecutive and in its body order.
 * @module
 */
import type { SQL } from "bun";
import { TimestampError, type BrokerError } from "../../core/errors.ts";
import { wallClockNs } from "../../time/timestamp.ts";
import { encodeBody } from "./ops.ts";

/** Runs an operation on the session's pool (retries, schema check, error wrapping). */
export type PgRun = <T>(op: (db: SQL) => Promise<T>) => Promise<T>;

/** Bodies (in UTF-16 code units) one statement carries at most, unless a single call is larger. */
const MAX_BATCH_CHARS = 8 * 1024 * 1024;
/** Rows one statement carries at most, unless a single call has more. */
const MAX_BATCH_ROWS = 10_000;
/** The low 12 bits of an id are its counter (docs/on-disk-format.md#message-ids). */
const COUNTER_BITS = 0xfffn;

interface Entry {
  queue: string;
  bodies: string[];
  resolve: (ids: bigint[]) => void;
  reject: (error: unknown) => void;
}

/** Collects concurrent writes and commits them together. */
export class PgWriteGroup {
  readonly #run: PgRun;
  readonly #s: string;
  readonly #channel: string;
  #waiting: Entry[] = [];
  #busy = false;

  /** `s`: the quoted schema; `channel`: its LISTEN/NOTIFY channel. */
  constructor(run: PgRun, s: string, channel: string) {
    this.#run = run;
    this.#s = s;
    this.#channel = channel;
  }

  /** Append `bodies` to `queue`; resolves with their ids once committed. */
  write(queue: string, bodies: string[]): Promise<bigint[]> {
    if (bodies.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ queue, bodies, resolve, reject });
      // Idle: start on the next microtask, so writes issued in the same synchronous run go together.
      if (!this.#busy) {
        this.#busy = true;
        queueMicrotask(() => void this.#drain());
      }
    });
  }

  // --- internal ---

  /** Send batches until nothing waits; writes arriving meanwhile form the next batch. */
  async #drain(): Promise<void> {
    try {
      while (this.#waiting.length > 0) await this.#send(this.#takeBatch());
    } finally {
      this.#busy = false;
    }
  }

  #takeBatch(): Entry[] {
    let chars = 0;
    let rows = 0;
    let n = 0;
    for (const entry of this.#waiting) {
      const size = entry.bodies.reduce((sum, b) => sum + b.length, 0);
      if (n > 0 && (chars + size > MAX_BATCH_CHARS || rows + entry.bodies.length > MAX_BATCH_ROWS)) break;
      chars += size;
      rows += entry.bodies.length;
      n++;
    }
    return this.#waiting.splice(0, n);
  }

  /**
   * One statement for the batch. When it fails for a reason a retry cannot
   * fix and holds more than one call, each call is tried alone, so one bad
   * write never fails another's.
   */
  async #send(batch: Entry[]): Promise<void> {
    try {
      const ids = await this.#insert(batch);
      let at = 0;
      for (const entry of batch) {
        entry.resolve(ids.slice(at, at + entry.bodies.length));
        at += entry.bodies.length;
      }
    } catch (error) {
      if (batch.length === 1 || (error as BrokerError).retryable || error instanceof TimestampError) {
        for (const entry of batch) entry.reject(error);
        return;
      }
      for (const entry of batch) await this.#send([entry]);
    }
  }

  /** Insert every body of the batch in order; the ids, in the same order. */
  async #insert(batch: Entry[]): Promise<bigint[]> {
    const queues: string[] = [];
    const bodies: string[] = [];
    for (const entry of batch) {
      for (const body of entry.bodies) {
        queues.push(entry.queue);
        bodies.push(encodeBody(body));
      }
    }
    const text = insertStatement(this.#s);
    const wake = new Set(queues).size > 64 ? ["*"] : [...new Set(queues)];
    const [row] = await this.#run((db) =>
      // The clock is read at each attempt (a retry after a deadlock gets a fresh one).
      db.unsafe(text, [queues, bodies, String(wallClockNs() & ~COUNTER_BITS), this.#channel, wake]),
    );
    if (row?.first === null || row?.first === undefined) throw new TimestampError("Timestamp too far in future");
    const first = BigInt(row.first);
    return bodies.map((_, i) => first + BigInt(i));
  }
}

/**
 * The batch insert: `meta` locked for the statement (so to its commit), the
 * first id `max(clock base, last_ts + 1)` and the rest consecutive (the
 * hybrid clock's rule for ids allocated at one clock reading; a counter that
 * overflows carries into the next grain), rows inserted in array order so
 * `order_id` follows the id, `last_ts` advanced, each queue notified. When
 * the ids would pass 2^63 - 1 nothing is written and `first` is NULL.
 */
function insertStatement(s: string): string {
  return `WITH m AS (SELECT last_ts FROM ${s}.meta WHERE singleton FOR UPDATE),
base AS (
  SELECT GREATEST($3::bigint, last_ts + 1) AS first FROM m
  WHERE GREATEST($3::numeric, last_ts::numeric + 1) + cardinality($2::text[]) - 1 < 9223372036854775808),
ins AS (
  INSERT INTO ${s}.messages (queue, body, ts)
  SELECT u.q, u.b, base.first + u.o - 1 FROM base, unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(q, b, o) ORDER BY u.o
  RETURNING 1),
adv AS (UPDATE ${s}.meta SET last_ts = base.first + cardinality($2::text[]) - 1 FROM base WHERE singleton RETURNING 1),
woke AS (SELECT pg_notify($4, w) FROM unnest($5::text[]) AS w WHERE EXISTS (SELECT 1 FROM base))
SELECT (SELECT first FROM base) AS first, (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM adv) AS advanced,
  (SELECT count(*) FROM woke) AS woke`;
}
