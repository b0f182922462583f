/**
 * Inspection calls of the synchronous `Queue`: finding message ids by body,
 * the newest pending id, and deleting a list of ids. They mean what the
 * `Broker`/`AsyncQueue` ones of `./_inspect.ts` mean (same validation, errors
 * and id order), done on the SQLite store's synchronous peek (pages by id,
 * each starting after the last id seen) and claim by id, on one connection.
 * @module
 */
import { ArgumentError } from "../core/errors.ts";
import { validateQueueName } from "../core/validate.ts";
import type { Message } from "../core/types.ts";
import type { FindOptions } from "./_inspect.ts";
import type { UseStore } from "./_sync-leases.ts";

export type { FindOptions } from "./_inspect.ts";

/** Messages per peek page of a walk. */
const PAGE = 1000;

/** The inspection calls of one `Queue`. */
export class SyncQueueInspect {
  readonly #name: string;
  readonly #use: UseStore;

  constructor(name: string, use: UseStore) {
    this.#name = name;
    this.#use = use;
  }

  /** Ids of the pending messages that match, oldest first. */
  findMessageIds(options: FindOptions = {}): bigint[] {
    validateQueueName(this.#name);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (!(limit >= 0)) throw new ArgumentError("limit must be zero or more");
    const found: bigint[] = [];
    if (limit === 0) return found;
    this.#walk(options.after, options.before, (page) => {
      for (const m of page) {
        if (options.bodyContains === undefined || m.body.includes(options.bodyContains)) found.push(m.ts);
        if (found.length >= limit) return false;
      }
      return true;
    });
    return found;
  }

  /** The id of the newest pending message, or undefined when nothing is pending. */
  latestPendingTimestamp(): bigint | undefined {
    validateQueueName(this.#name);
    let latest: bigint | undefined;
    this.#walk(undefined, undefined, (page) => {
      if (page.length > 0) latest = page[page.length - 1]!.ts;
      return true;
    });
    return latest;
  }

  /** Claim (logically delete) the pending messages with these ids; returns how many were found. */
  deleteMany(ids: Iterable<bigint>): number {
    validateQueueName(this.#name);
    const unique = new Set(ids);
    if (unique.size === 0) return 0;
    return this.#use((s) => {
      let n = 0;
      for (const id of unique) n += s.claim(this.#name, { exactId: id }).length;
      return n;
    });
  }

  /**
   * Peek the pending messages between `after` and `before` page by page on
   * one connection, handing each page to `visit` until it returns false or
   * the walk reaches the end.
   */
  #walk(after: bigint | undefined, before: bigint | undefined, visit: (page: Message[]) => boolean): void {
    this.#use((s) => {
      for (let from = after; ; ) {
        const page = s.peek(this.#name, { after: from, before, limit: PAGE });
        if (!visit(page) || page.length < PAGE) return;
        from = page[page.length - 1]!.ts;
      }
    });
  }
}
