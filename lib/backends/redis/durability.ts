/**
 * Whether the Redis server keeps anything on disk (docs/redis.md#durability):
 * `CONFIG GET appendonly` and `CONFIG GET save`, asked once per connection
 * after its first command. A server that persists nothing gets one
 * warning line on stderr per process (silenced by
 * `BROKER_REDIS_PERSISTENCE_WARNING=0`); a server that refuses CONFIG
 * (managed services) is reported as `unknown`, without a warning.
 * @module
 */
import { BackendError } from "../../core/errors.ts";
import type { BrokerStatus } from "../../core/types.ts";
import type { RedisConnection } from "./connection.ts";

/** Redis persistence: append-only file, snapshots, both, nothing, or not known (CONFIG refused). */
export type RedisPersistence = NonNullable<BrokerStatus["persistence"]>;

/** The variable that silences the warning (`0`, `false`, `no`, `off`). */
export const PERSISTENCE_WARNING_VARIABLE = "BROKER_REDIS_PERSISTENCE_WARNING";

/**
 * Run `work` (a command on `conn`), then, the first time it succeeds, the
 * persistence check of `conn` (one more round trip, once): the warning is
 * out before the command's own output. Never started beside `work`, so a
 * server that does not answer fails `work` alone, with its own message.
 */
export async function withPersistenceCheck<T>(conn: RedisConnection, work: () => Promise<T>): Promise<T> {
  const result = await work();
  await persistenceOf(conn);
  return result;
}

/**
 * The persistence of the server behind `conn`: `aof`, `rdb`, `aof+rdb`,
 * `none`, or `unknown` when CONFIG is refused. Asked once per connection;
 * never rejects (a connection failure is reported by the command itself, and
 * the next command asks again).
 */
export function persistenceOf(conn: RedisConnection): Promise<RedisPersistence> {
  let known = checks.get(conn);
  if (!known) {
    known = ask(conn);
    checks.set(conn, known);
  }
  return known;
}

/** `aof` / `rdb` / `aof+rdb` / `none` from the two settings as the server reports them. */
export function persistenceFrom(appendonly: string, save: string): RedisPersistence {
  const aof = appendonly.trim().toLowerCase() === "yes";
  const rdb = save.trim() !== "";
  return aof && rdb ? "aof+rdb" : aof ? "aof" : rdb ? "rdb" : "none";
}

// --- internal ---

const checks = new WeakMap<RedisConnection, Promise<RedisPersistence>>();
let warned = false;

async function ask(conn: RedisConnection): Promise<RedisPersistence> {
  let persistence: RedisPersistence;
  try {
    const [appendonly, save] = await Promise.all([setting(conn, "appendonly"), setting(conn, "save")]);
    if (appendonly === undefined || save === undefined) return "unknown";
    persistence = persistenceFrom(appendonly, save);
    if (persistence === "none") warn(conn.display, appendonly, save);
  } catch (error) {
    // Unreachable: ask again with the next command. Refused (managed services, ACLs): unknown for good.
    if (error instanceof BackendError && error.retryable) checks.delete(conn);
    return "unknown";
  }
  return persistence;
}

/** One setting from `CONFIG GET` (a map under RESP3, a flat list under RESP2); undefined when the server hides it. */
async function setting(conn: RedisConnection, name: string): Promise<string | undefined> {
  const reply: unknown = await conn.send("CONFIG", ["GET", name]);
  if (Array.isArray(reply)) {
    const at = reply.findIndex((v, i) => i % 2 === 0 && String(v).toLowerCase() === name);
    return at === -1 ? undefined : String(reply[at + 1] ?? "");
  }
  if (reply && typeof reply === "object" && name in reply) return String((reply as Record<string, unknown>)[name]);
  return undefined;
}

function warn(display: string, appendonly: string, save: string): void {
  if (warned || silenced()) return;
  warned = true;
  console.error(
    `simplebroker: warning: Redis at ${display} keeps no data on disk (appendonly ${appendonly}, save ${JSON.stringify(save)}); ` +
      "a restart loses every message — see docs/redis.md",
  );
}

function silenced(): boolean {
  const value = (process.env[PERSISTENCE_WARNING_VARIABLE] ?? "").trim().toLowerCase();
  return ["0", "false", "no", "off"].includes(value);
}
