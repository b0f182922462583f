/**
 * The Redis / Valkey backend through Bun's built-in `RedisClient` (docs/on-disk-format.md#redis): one namespace
 * of keys per store (see keys.ts), every state change one Lua script (scripts.ts, prelude.ts; leases and delays:
 * leases.ts), wake-ups over pub/sub (subscriber.ts). `status().dbSize` is the sum of `MEMORY USAGE` (Redis' own
 * estimate, default sampling) over the namespace's keys, found with SCAN.
 * @module
 */
import { BackendError } from "../../core/errors.ts";
import { wallClockNs } from "../../time/timestamp.ts";
import type {
  Backend,
  BroadcastTargets,
  BrokerConfig,
  BrokerStatus,
  LoadInput,
  LoadResult,
  Message,
  QueueStats,
  RenameResult,
  Reservation,
  Selection,
  VacuumResult,
} from "../../core/types.ts";
import { ownerGone, ownerRecord } from "../_owner.ts";
import { RedisConnection } from "./connection.ts";
import { afterArg, escapeGlob, isOwnKey, keyPrefix, MAGIC, parseSettings, SCHEMA_VERSION, selectionArgs } from "./keys.ts";
import { ActivitySubscriber } from "./subscriber.ts";
import { redisLeases, waitHeld } from "./leases.ts";
import { loadIntoRedis } from "./load.ts";
import { persistenceOf, withPersistenceCheck } from "./durability.ts";
import { toMessages, toStats } from "./replies.ts";
import { type TokenClaims, tokenClaims } from "./claim-token.ts";
export { DEFAULT_NAMESPACE, keyPrefix } from "./keys.ts";

/** Options of the Redis backend. */
export interface RedisBackendOptions {
  /** `redis://[user:password@]host:port/db` (also `rediss://`, `redis+unix://`). */
  url: string;
  /** `namespace` (default `simplebroker_redis_v1`), `reservation_timeout` in seconds (default 300). */
  options: Record<string, unknown>;
  config: BrokerConfig;
}

/** The Redis implementation of {@link Backend}, with its namespace. */
export type RedisBackend = Backend &
  Required<Pick<Backend, "reserve" | "vacuum" | "cleanup" | "waitForActivity">> & {
    readonly namespace: string;
    /** The key prefix `simplebroker:<namespace>:`. */
    readonly prefix: string;
  };

/** Create a Redis backend; it connects on first use. */
export function createRedisBackend(opts: RedisBackendOptions): RedisBackend {
  return new RedisStore(opts);
}

class RedisStore implements RedisBackend {
  readonly name = "redis";
  readonly displayTarget: string;
  readonly namespace: string;
  readonly prefix: string;
  readonly #config: BrokerConfig;
  readonly #conn: RedisConnection;
  readonly #claims: TokenClaims;
  #subscriber: ActivitySubscriber | undefined;

  constructor(opts: RedisBackendOptions) {
    const settings = parseSettings(opts.options);
    this.namespace = settings.namespace;
    this.prefix = keyPrefix(settings.namespace);
    this.#config = opts.config;
    this.#conn = new RedisConnection(opts.url, opts.config.backendPassword ?? "", opts.config.backendConnectTimeout);
    const run = this.#run.bind(this);
    const connected = () => this.#conn.connected;
    this.#claims = tokenClaims(run, opts.config.backendConnectTimeout, settings.reservationTimeoutMs, connected);
    this.displayTarget = this.#conn.display;
    Object.assign(this, redisLeases(run));
  }

  async init(): Promise<void> {
    const [magic, version] = (await this.#run("init", [])) as [string | null, string | null];
    if (magic !== MAGIC || Number(version) > SCHEMA_VERSION) {
      throw new BackendError(`Redis namespace '${this.namespace}' is not a SimpleBroker namespace`);
    }
  }

  /** Release both connections; a later call connects again (as SQLite reopens its file). */
  async close(): Promise<void> {
    this.#subscriber?.close();
    this.#subscriber = undefined;
    this.#conn.close();
  }

  async write(queue: string, bodies: string[]): Promise<bigint[]> {
    if (bodies.length === 0) return [];
    const ids = (await this.#run("write", [queue, String(wallClockNs()), ...bodies])) as string[];
    return ids.map((id) => BigInt(id));
  }

  /** A claim whose answer is lost is collected by its token (claim-token.ts). */
  claim(queue: string, sel: Selection = {}): Promise<Message[]> {
    return this.#claims.claim(queue, sel);
  }

  async peek(queue: string, sel: Selection = {}): Promise<Message[]> {
    const args = selectionArgs(sel);
    if (!args) return [];
    const offset = String(Math.max(0, Math.floor(sel.offset ?? 0)));
    const claimed = sel.includeClaimed ? "1" : "0";
    return toMessages(await this.#run("peek", [queue, args.limit, args.after, args.before, args.exact, offset, claimed]));
  }

  async move(source: string, target: string, sel: Selection = {}): Promise<Message[]> {
    const args = selectionArgs(sel);
    if (!args) return [];
    const unclaimed = sel.requireUnclaimed === false ? "0" : "1";
    return toMessages(await this.#run("move", [source, target, args.limit, args.after, args.before, args.exact, unclaimed]));
  }

  /** A reservation whose answer is lost is collected by its token (claim-token.ts). */
  reserve(queue: string, sel: Selection, moveTo?: string): Promise<Reservation> {
    return this.#claims.reserve(queue, sel, moveTo);
  }

  /** Load a dump: staged and validated first, then applied by one script (see load.ts). */
  async load(input: LoadInput): Promise<LoadResult> {
    await this.init();
    return loadIntoRedis((command, args) => this.#conn.send(command, args), this.prefix, input);
  }

  async rename(source: string, target: string, retargetAliases: boolean): Promise<RenameResult> {
    const [messages, aliases] = (await this.#run("rename", [source, target, retargetAliases ? "1" : "0"])) as number[];
    return { messages: Number(messages), aliases: Number(aliases) };
  }

  async deleteQueue(queue?: string): Promise<number> {
    return Number(await this.#run("delete", [queue ?? "", queue === undefined ? "1" : "0"]));
  }

  /** One message per chosen queue with rows (see `BroadcastTargets`), in one script; the names come from the client. */
  async broadcast(body: string, targets?: BroadcastTargets): Promise<number> {
    const head = [body, String(wallClockNs())];
    const args = !targets
      ? [...head, ""]
      : [...head, targets.listed ? "ql" : "q", String(targets.queues.length), ...targets.queues, ...(targets.listed ?? [])];
    return Number(await this.#run("broadcast", args));
  }

  /** Stats of every queue with rows, sorted by name (the whole set: `prefix` is only a hint). */
  async listStats(_filter: { prefix?: string } = {}): Promise<QueueStats[]> {
    const all = toStats(await this.#run("stats", [""]));
    return all.sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  }

  async queueStats(queue: string): Promise<QueueStats> {
    return toStats(await this.#run("stats", [queue]))[0]!;
  }

  async hasPending(queue: string, after?: bigint): Promise<boolean> {
    return Number(await this.#run("hasPending", [queue, afterArg(after)])) > 0;
  }

  async status(): Promise<BrokerStatus> {
    const [total, last] = (await this.#run("status", [])) as [number, string];
    const [dbSize, persistence] = await Promise.all([this.#memoryUsage(), persistenceOf(this.#conn)]);
    return { totalMessages: Number(total), lastTimestamp: BigInt(last), dbSize, persistence };
  }

  async generateTimestamp(): Promise<bigint> {
    return BigInt((await this.#run("timestamp", [String(wallClockNs())])) as string);
  }

  async lastTimestamp(): Promise<bigint> {
    return BigInt(((await this.#conn.send("HGET", [`${this.prefix}meta`, "last_ts"])) as string | null) ?? "0");
  }

  async listAliases(): Promise<Array<[string, string]>> {
    const flat = ((await this.#conn.send("HGETALL", [`${this.prefix}aliases`])) ?? {}) as Record<string, string> | string[];
    const pairs: Array<[string, string]> = Array.isArray(flat)
      ? Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!])
      : Object.entries(flat);
    return pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  async resolveAlias(alias: string): Promise<string | undefined> {
    return ((await this.#conn.send("HGET", [`${this.prefix}aliases`, alias])) as string | null) ?? undefined;
  }

  async addAlias(alias: string, target: string): Promise<void> {
    await this.#run("addAlias", [alias, target]);
  }

  async removeAlias(alias: string): Promise<boolean> {
    return Number(await this.#run("removeAlias", [alias])) > 0;
  }

  /** Delete claimed ids and their bodies in batches, under a lock key (compact: nothing more to do). */
  async vacuum(_compact = false): Promise<VacuumResult> {
    const lock = `${this.prefix}vacuum_lock`;
    const token = `${ownerRecord()}${crypto.randomUUID()}`;
    const ttl = String(Math.max(1000, Math.round(this.#config.vacuumLockTimeout * 1000)));
    const take = async () => (await this.#conn.send("SET", [lock, token, "NX", "PX", ttl])) !== null;
    if (!(await take())) {
      // A holder killed mid-vacuum (its process gone from this host) is not waited out for the TTL.
      const holder = (await this.#conn.send("GET", [lock])) as string | null;
      if (holder !== null && ownerGone(holder)) await this.#run("unlock", [holder]);
      if (!(await take())) return { vacuumed: 0, ran: false };
    }
    try {
      const batch = Math.max(1, this.#config.vacuumBatchSize);
      let vacuumed = 0;
      for (;;) {
        const n = Number(await this.#run("vacuum", [String(batch)]));
        vacuumed += n;
        if (n < batch) break;
      }
      return { vacuumed, ran: true };
    } finally {
      await this.#run("unlock", [token]).catch(() => {});
    }
  }

  /**
   * Delete the namespace's keys (SCAN + UNLINK), only when it is ours (magic)
   * and every key under the prefix is one of our layout; else one line naming
   * the keys that are not ours, and nothing deleted.
   */
  async cleanup(): Promise<boolean> {
    this.#subscriber?.close();
    this.#subscriber = undefined;
    const magic = (await this.#conn.send("HGET", [`${this.prefix}meta`, "magic"])) as string | null;
    const keys = await this.#scanKeys();
    if (magic === null && keys.length === 0) return false;
    if (magic !== MAGIC) {
      throw new BackendError(
        `Redis namespace '${this.namespace}' is not a SimpleBroker namespace (${magic === null ? "no metadata" : `magic '${magic}'`}); refusing to delete it`,
      );
    }
    const foreign = keys.filter((k) => !isOwnKey(this.prefix, k)).sort();
    if (foreign.length > 0) {
      const more = foreign.length > 5 ? ` and ${foreign.length - 5} more` : "";
      throw new BackendError(
        `Redis namespace '${this.namespace}' also holds keys SimpleBroker did not create (${foreign.slice(0, 5).join(", ")}${more}); refusing to delete it`,
      );
    }
    for (let i = 0; i < keys.length; i += 500) await this.#conn.send("UNLINK", keys.slice(i, i + 500));
    return true;
  }

  waitForActivity(queues: string[], timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    this.#subscriber ??= new ActivitySubscriber(this.#conn, this.prefix);
    const wait = (ms: number, sig: AbortSignal) => this.#subscriber!.wait(queues, ms, sig);
    return waitHeld(this.#run.bind(this), queues, timeoutMs, signal, wait);
  }

  // --- internal ---

  // biome-ignore lint/suspicious/noExplicitAny: a script's reply shape depends on the script; callers narrow it
  #run(name: Parameters<RedisConnection["run"]>[0], args: string[]): Promise<any> {
    return withPersistenceCheck(this.#conn, () => this.#conn.run(name, this.prefix, args));
  }

  async #scanKeys(): Promise<string[]> {
    const match = `${escapeGlob(this.prefix)}*`;
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = (await this.#conn.send("SCAN", [cursor, "MATCH", match, "COUNT", "1000"])) as [string, string[]];
      cursor = String(next);
      keys.push(...batch);
    } while (cursor !== "0");
    return [...new Set(keys)];
  }

  async #memoryUsage(): Promise<number> {
    const keys = await this.#scanKeys();
    const sizes = await Promise.all(keys.map((k) => this.#conn.send("MEMORY", ["USAGE", k]) as Promise<number | null>));
    return sizes.reduce<number>((sum, n) => sum + Number(n ?? 0), 0);
  }
}
