/**
 * Group commit for concurrent requests on one queue. While a transaction for
 * a queue is running, the writes (or claims) that arrive for it wait and then
 * go together in the next one: one commit (one fsync on SQLite) serves them
 * all. Nothing waits on a timer; a lone request runs at once.
 * @module
 */
import type { Broker } from "../queue/broker.ts";
import type { Message } from "../core/types.ts";

/** Most requests folded into one transaction. */
const MAX_BATCH = 256;

interface Lane<I, O> {
  items: I[];
  waiters: Array<PromiseWithResolvers<O>>;
  running: boolean;
}

/** Runs `flush(key, items)` for queued items, one batch per key at a time. */
class Coalescer<I, O> {
  readonly #lanes = new Map<string, Lane<I, O>>();
  readonly #flush: (key: string, items: I[]) => Promise<O[]>;

  constructor(flush: (key: string, items: I[]) => Promise<O[]>) {
    this.#flush = flush;
  }

  submit(key: string, item: I): Promise<O> {
    let lane = this.#lanes.get(key);
    if (!lane) this.#lanes.set(key, (lane = { items: [], waiters: [], running: false }));
    const waiter = Promise.withResolvers<O>();
    lane.items.push(item);
    lane.waiters.push(waiter);
    if (!lane.running) void this.#drain(key, lane);
    return waiter.promise;
  }

  async #drain(key: string, lane: Lane<I, O>): Promise<void> {
    lane.running = true;
    for (;;) {
      if (lane.items.length === 0) {
        // SQLite runs synchronously, so the requests that arrived meanwhile are still on their
        // sockets: give them one turn of the event loop to join the next batch.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (lane.items.length === 0) break;
      }
      const items = lane.items.splice(0, MAX_BATCH);
      const waiters = lane.waiters.splice(0, items.length);
      try {
        const results = await this.#flush(key, items);
        waiters.forEach((w, i) => w.resolve(results[i]!));
      } catch (error) {
        for (const w of waiters) w.reject(error);
      }
    }
    lane.running = false;
    this.#lanes.delete(key);
  }
}

/** Writes and claims of one broker, batched per queue. Queue names must be resolved already. */
export class QueueBatcher {
  readonly #writes: Coalescer<string, bigint>;
  readonly #claims: Coalescer<null, Message | null>;

  constructor(broker: Broker) {
    this.#writes = new Coalescer((queue, bodies) => broker.write(queue, bodies));
    // One claim of up to n messages, handed out oldest first; waiters beyond what was there get null.
    this.#claims = new Coalescer(async (queue, items) => {
      const got = await broker.read(queue, { limit: items.length });
      return items.map((_, i) => got[i] ?? null);
    });
  }

  /** Write one message; resolves with its id once committed. */
  write(queue: string, body: string): Promise<bigint> {
    return this.#writes.submit(queue, body);
  }

  /** Claim the oldest pending message (committed before resolving), or null. */
  claim(queue: string): Promise<Message | null> {
    return this.#claims.submit(queue, null);
  }
}
