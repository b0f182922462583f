/**
 * One lazily opened command connection (Bun's `RedisClient`), script calls
 * through EVALSHA with an EVAL fallback, and the mapping of every failure to
 * a one-line {@link BackendError} (or {@link ArgumentError} for the alias
 * checks done inside the scripts). Passwords never reach a message.
 * @module
 */
// Type-only: the value comes from the Bun global, so the compiled CLI does not load the client at start-up.
import type { RedisClient, RedisOptions } from "bun";
import { ArgumentError, BackendError } from "../../core/errors.ts";
import { redactTarget } from "../redact.ts";
import { isConnectionLoss } from "../connection-loss.ts";
import { connectTimeoutSeconds } from "../connect-timeout.ts";
import { script, type ScriptName } from "./scripts.ts";

/** Client settings; the connection timeout is set per connection from BROKER_BACKEND_CONNECT_TIMEOUT. */
const CLIENT_OPTIONS: RedisOptions = {
  autoReconnect: true,
  // Bun retries after 50, 100, 200, 400, 800 ms: a server back within those 1.55 s is seen within 0.8 s (docs/outages.md).
  maxRetries: 5,
  enableOfflineQueue: true,
  enableAutoPipelining: true,
};

/** Add `password` to a `redis://` URL that carries none (BROKER_BACKEND_PASSWORD). */
export function urlWithPassword(url: string, password: string): string {
  if (!password) return url;
  try {
    const u = new URL(url);
    if (u.password || !u.host) return url;
    u.password = password;
    return u.toString();
  } catch {
    return url;
  }
}

/** The command connection of one backend instance. */
export class RedisConnection {
  /** The target as shown to users (password redacted). */
  readonly display: string;
  readonly #url: string;
  readonly #secrets: string[];
  readonly #connectTimeout: number;
  #client: RedisClient | undefined;
  /** The last client was lost: the next one fails at once instead of retrying for seconds (docs/outages.md). */
  #failFast = false;
  /** The current client, when it was made to fail fast; replaced by one that retries once a command succeeds. */
  #fastClient: RedisClient | undefined;
  /** Commands in flight, by client: a replaced client is closed when its last one settles. */
  readonly #busy = new Map<RedisClient, number>();

  /** `connectTimeout`: seconds the first connection may take, answer included (BROKER_BACKEND_CONNECT_TIMEOUT). */
  constructor(url: string, password: string, connectTimeout = 5) {
    this.#connectTimeout = connectTimeoutSeconds(connectTimeout);
    this.#url = urlWithPassword(url, password);
    this.display = redactTarget(url);
    const secrets = [password];
    try {
      const u = new URL(this.#url);
      secrets.push(u.password, decodeURIComponent(u.password));
    } catch {
      // not a URL: nothing more to hide
    }
    this.#secrets = secrets.filter((s) => s.length > 0);
  }

  /** The client, created on first use (it connects on its first command). */
  get client(): RedisClient {
    if (!this.#client) {
      try {
        // Bun's own timeout a little later than ours, so a silent server gets our message.
        const connectionTimeout = Math.ceil(this.#connectTimeout * 1000) + 1000;
        const retry = this.#failFast ? { autoReconnect: false } : {};
        this.#client = new Bun.RedisClient(this.#url, { ...CLIENT_OPTIONS, connectionTimeout, ...retry });
        this.#fastClient = this.#failFast ? this.#client : undefined;
        this.#failFast = false;
      } catch (error) {
        // The client's own text ("Invalid URL format") names neither the target nor the fix.
        throw new BackendError(`Invalid Redis target: ${this.display}`, { cause: error });
      }
    }
    return this.#client;
  }

  /** True while the client is connected (false before its first command and after a loss). */
  get connected(): boolean {
    return this.#client?.connected === true;
  }

  /** Run one command. */
  // biome-ignore lint/suspicious/noExplicitAny: a RESP reply's shape depends on the command; callers narrow it
  async send(command: string, args: string[]): Promise<any> {
    return this.#call((client) => client.send(command, args));
  }

  /** Run a script of scripts.ts by name; `args` follow the key prefix (ARGV[1]). */
  // biome-ignore lint/suspicious/noExplicitAny: a script's reply shape depends on the script; callers narrow it
  async run(name: ScriptName, prefix: string, args: string[]): Promise<any> {
    const s = script(name);
    return this.#call(async (client) => {
      try {
        return await client.send("EVALSHA", [s.sha, "0", prefix, ...args]);
      } catch (error) {
        if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
        return await client.send("EVAL", [s.source, "0", prefix, ...args]);
      }
    });
  }

  /** A second connection with the same settings (for the pub/sub subscriber). */
  async duplicate(): Promise<RedisClient> {
    const client = this.client;
    try {
      return await this.#bounded(client, async () => {
        const dup = await client.duplicate();
        await dup.connect();
        return dup;
      });
    } catch (error) {
      throw this.#wrap(error, client);
    }
  }

  /** Turn any failure into a one-line broker error, without secrets. */
  wrap(error: unknown): Error {
    return this.#wrap(error, undefined);
  }

  /** Close the connection. Idempotent; a later command opens a new one. */
  close(): void {
    const c = this.#client;
    this.#client = undefined;
    try {
      c?.close();
    } catch {
      // already closed
    }
  }

  // --- internal ---

  /**
   * `work` on the client. A client that lost its connection while idle and
   * gave up reconnecting fails its next command without sending it: that
   * command goes once more on a new client (docs/outages.md).
   */
  async #call<T>(work: (client: RedisClient) => Promise<T>): Promise<T> {
    for (let retried = false; ; retried = true) {
      const stale = this.#client !== undefined && !this.#client.connected;
      const client = this.client;
      this.#busy.set(client, (this.#busy.get(client) ?? 0) + 1);
      try {
        const value = await this.#bounded(client, () => work(client));
        if (client === this.#fastClient) this.#recovered(client);
        return value;
      } catch (error) {
        const wrapped = this.#wrap(error, client);
        if (retried || !stale || !isConnectionLoss(error)) throw wrapped;
      } finally {
        this.#settled(client);
      }
    }
  }

  /**
   * A fail-fast client reached the server: later commands go to a new client
   * that retries through a brief blip again (docs/outages.md); this one is
   * closed once its commands in flight settled.
   */
  #recovered(client: RedisClient): void {
    this.#fastClient = undefined;
    if (this.#client === client) this.#client = undefined;
  }

  /** One command of `client` settled: close it when it was replaced and has nothing left in flight. */
  #settled(client: RedisClient): void {
    const left = (this.#busy.get(client) ?? 1) - 1;
    if (left > 0) {
      this.#busy.set(client, left);
      return;
    }
    this.#busy.delete(client);
    if (client === this.#client) return;
    try {
      client.close();
    } catch {
      // already closed
    }
  }

  /**
   * `work` on `client`; until the client has connected, bounded by the connect
   * timeout: a server that accepts and never answers gives one line naming the
   * target, and the client is dropped so the next call starts afresh.
   */
  #bounded<T>(client: RedisClient, work: () => Promise<T>): Promise<T> {
    if (client.connected) return work();
    const pending = work();
    pending.catch(() => {}); // abandoned when the timeout wins; otherwise awaited below
    const seconds = this.#connectTimeout;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (this.#client === client) this.close();
        const text = `Cannot connect to Redis at ${this.display}: no answer within ${seconds} s (BROKER_BACKEND_CONNECT_TIMEOUT)`;
        const cause = Object.assign(new Error(text), { code: "ERR_REDIS_CONNECTION_TIMEOUT" });
        reject(new BackendError(text, { retryable: true, cause }));
      }, seconds * 1000);
    });
    return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
  }

  #wrap(error: unknown, client: RedisClient | undefined): Error {
    if (error instanceof ArgumentError || error instanceof BackendError) return error;
    const e = error as { message?: unknown; code?: unknown };
    let text = String(e?.message ?? error).replace(/ script: [0-9a-f]{40}, on @user_script:\d+\.?$/, "");
    for (const s of this.#secrets) text = text.replaceAll(s, "***");
    text = text.replace(/\s*\n\s*/g, " ").trim();
    if (text.startsWith("SBARG ")) return new ArgumentError(text.slice(6));
    if (text.startsWith("SBERR ")) return new BackendError(text.slice(6));
    const serverReply = e?.code === "ERR_REDIS_SERVER_ERROR";
    if (!serverReply && client && client === this.#client) {
      // A broken or given-up client: drop it so the next call connects afresh.
      this.#client = undefined;
      try {
        client.close();
      } catch {
        // already closed
      }
    }
    if (typeof e?.code === "string" && e.code.startsWith("ERR_REDIS_CONNECTION")) {
      this.#failFast = true;
      return new BackendError(`Cannot connect to Redis at ${this.display}: ${text} (${e.code})`, {
        cause: error,
        retryable: true,
      });
    }
    // Server replies that pass: loading, a busy script, failover, cluster resharding.
    const transient = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|READONLY|CLUSTERDOWN)\b/.test(text);
    return new BackendError(`Redis error (${this.display}): ${text}`, { cause: error, retryable: !serverReply || transient });
  }
}
