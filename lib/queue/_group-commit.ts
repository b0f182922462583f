/**
 * Group commit for `Queue.writeAsync`: every write issued before the next
 * turn of the event loop shares one transaction (and its fsync).
 * @module
 */

/** Collects bodies and writes them together on the next turn. */
export class GroupCommit {
  readonly #write: (bodies: string[]) => bigint[];
  #pending: Array<{ body: string; resolve: (id: bigint) => void; reject: (e: unknown) => void }> = [];
  #scheduled = false;

  /** `write`: one transaction for all the bodies, returning their ids in order. */
  constructor(write: (bodies: string[]) => bigint[]) {
    this.#write = write;
  }

  /** Queue `body` for the next group; resolves with its id once committed. */
  add(body: string): Promise<bigint> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ body, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Write the waiting bodies now (each promise settles with the shared outcome). */
  flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    try {
      const ids = this.#write(batch.map((p) => p.body));
      batch.forEach((p, i) => p.resolve(ids[i]!));
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
