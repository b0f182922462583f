/**
 * Pub/sub wake-ups for one backend instance: one subscriber connection
 * (`duplicate()` of the command connection), shared by every waiter.
 *
 * Channels stay subscribed once a waiter asked for them (watchers wait in a
 * loop, so dropping them between waits would lose notifications); a message
 * that arrives while nobody waits is remembered and wakes the next waiter of
 * that channel at once. Bun does not restore subscriptions after a
 * reconnect, so a reconnect replaces the connection; every waiter then
 * resolves true, because notifications may have been missed.
 * @module
 */
import type { RedisClient } from "bun";
import type { RedisConnection } from "./connection.ts";

interface Waiter {
  channels: string[];
  finish(value: boolean): void;
}

/** The pub/sub side of a Redis backend. */
export class ActivitySubscriber {
  readonly #conn: RedisConnection;
  readonly #allChannel: string;
  readonly #queuePrefix: string;
  readonly #name: string;
  #client: RedisClient | undefined;
  #opening: Promise<RedisClient> | undefined;
  /** Channels subscribed on the current client. */
  #subscribed = new Set<string>();
  /** Channels ever asked for: resubscribed after a reconnect. */
  #wanted = new Set<string>();
  #waiters = new Map<string, Set<Waiter>>();
  /** Channels with a notification nobody was waiting for. */
  #missed = new Set<string>();
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;
  readonly #listener = (_message: string, channel: string) => this.#notify(channel);

  constructor(conn: RedisConnection, prefix: string) {
    this.#conn = conn;
    this.#name = `${prefix}subscriber`;
    this.#allChannel = `${prefix}activity:all`;
    this.#queuePrefix = `${prefix}activity:q:`;
  }

  /**
   * Resolve true on a notification for one of `queues` (or a global one),
   * right after (re)subscribing (the caller must re-check), false after
   * `timeoutMs` or on abort.
   */
  async wait(queues: string[], timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted || this.#closed) return false;
    const channels = [this.#allChannel, ...queues.map((q) => this.#queuePrefix + q)];
    if (await this.#ensure(channels)) return true;
    if (signal?.aborted || this.#closed) return false;
    let missed = false;
    for (const c of channels) if (this.#missed.delete(c)) missed = true;
    if (missed) return true;
    return new Promise<boolean>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        channels,
        finish: (value) => {
          for (const c of channels) this.#waiters.get(c)?.delete(waiter);
          if (timer) clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve(value);
        },
      };
      const onAbort = () => waiter.finish(false);
      for (const c of channels) {
        let set = this.#waiters.get(c);
        if (!set) this.#waiters.set(c, (set = new Set()));
        set.add(waiter);
      }
      timer = setTimeout(() => waiter.finish(false), Math.max(0, timeoutMs));
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Wake every waiter with false and close the subscriber connection. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#finishAll(false);
    this.#drop();
  }

  // --- internal ---

  /** Subscribe to any channel not yet subscribed; true when something was (re)subscribed. */
  #ensure(channels: string[]): Promise<boolean> {
    if (this.#client && channels.every((c) => this.#subscribed.has(c))) return Promise.resolve(false);
    const run = this.#chain.then(async () => {
      for (const c of channels) this.#wanted.add(c);
      const client = await this.#open();
      const missing = [...this.#wanted].filter((c) => !this.#subscribed.has(c));
      if (missing.length === 0) return false;
      try {
        await client.subscribe(missing, this.#listener);
      } catch (error) {
        if (client === this.#client) this.#drop();
        throw this.#conn.wrap(error);
      }
      if (client !== this.#client) return true;
      for (const c of missing) this.#subscribed.add(c);
      return true;
    });
    this.#chain = run.catch(() => {});
    return run;
  }

  async #open(): Promise<RedisClient> {
    if (this.#client) return this.#client;
    this.#opening ??= this.#conn.duplicate().finally(() => (this.#opening = undefined));
    const client = await this.#opening;
    if (this.#closed) {
      client.close();
      throw new Error("subscriber closed");
    }
    if (this.#client) {
      client.close();
      return this.#client;
    }
    this.#client = client;
    this.#subscribed.clear();
    // Named, so operators (and the reconnect test) can tell the connection apart.
    await client.send("CLIENT", ["SETNAME", this.#name]).catch(() => {});
    // Any later connect is a reconnect: Bun does not resubscribe, so start over.
    client.onconnect = () => this.#lost(client);
    client.onclose = () => this.#lost(client);
    return client;
  }

  #lost(client: RedisClient): void {
    if (client !== this.#client) return;
    this.#drop();
    this.#finishAll(true);
  }

  #drop(): void {
    const client = this.#client;
    this.#client = undefined;
    this.#subscribed.clear();
    if (!client) return;
    client.onconnect = null;
    client.onclose = null;
    try {
      client.close();
    } catch {
      // already closed
    }
  }

  #notify(channel: string): void {
    const set = this.#waiters.get(channel);
    if (!set || set.size === 0) {
      this.#missed.add(channel);
      return;
    }
    for (const w of [...set]) w.finish(true);
  }

  #finishAll(value: boolean): void {
    const all = new Set<Waiter>();
    for (const set of this.#waiters.values()) for (const w of set) all.add(w);
    for (const w of all) w.finish(value);
    this.#waiters.clear();
  }
}
