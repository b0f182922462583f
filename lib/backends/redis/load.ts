/**
 * Loading a dump into Redis, which has no transactions to roll back: the
 * records are first staged under `load:<token>:msgs|aliases` (expiring after
 * an hour, so a killed load leaves nothing for long), each staged batch
 * checked for ids already present. Only when the whole stream has been read
 * and validated does one script apply the staged records: atomic for every
 * other client, and it checks every id and alias again before its first
 * change, so bad input or a duplicate anywhere leaves the namespace as it
 * was. (Redis does not undo a script that fails half-way on the server, e.g.
 * out of memory; that is the one case a load may apply in part.)
 * @module
 */
import { BackendError } from "../../core/errors.ts";
import type { LoadInput, LoadRecord, LoadResult } from "../../core/types.ts";
import { wallClockNs } from "../../time/timestamp.ts";
import { idMember } from "./keys.ts";

type Send = (command: string, args: string[]) => Promise<unknown>;
type MessageRecord = LoadRecord & { kind: "message" };

const BATCH = 1000;
const STAGE_TTL_MS = "3600000";

/** ARGV: prefix, stage key, ttl, then (id, queue, body)…; → 0, or the 1-based index of a duplicate. */
const STAGE = `
local P, S = ARGV[1], ARGV[2]
for i = 4, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('HEXISTS', P .. 'bodies', id) == 1 or redis.call('HEXISTS', S, id) == 1 then return (i - 1) / 3 end
  redis.call('HSET', S, id, ARGV[i + 1] .. '\\n' .. ARGV[i + 2])
end
redis.call('PEXPIRE', S, ARGV[3])
return 0`;

/** ARGV: prefix, msgs key, aliases key, last_ts (no leading zeros), now_ns; → {'ok', messages, aliases} or {'dup'|'alias', detail}. */
const APPLY = `
local P, S, A = ARGV[1], ARGV[2], ARGV[3]
local function scan(key, fn)
  local cursor = '0'
  repeat
    local r = redis.call('HSCAN', key, cursor, 'COUNT', 1000)
    cursor = r[1]
    for i = 1, #r[2], 2 do local out = fn(r[2][i], r[2][i + 1]); if out then return out end end
  until cursor == '0'
end
local bad = scan(A, function(alias, target)
  local cur = redis.call('HGET', P .. 'aliases', alias)
  if cur and cur ~= target then return {'alias', alias, cur} end
end) or scan(S, function(id) if redis.call('HEXISTS', P .. 'bodies', id) == 1 then return {'dup', id} end end)
if bad then return bad end
local n, na = 0, 0
scan(S, function(id, v)
  local nl = string.find(v, '\\n', 1, true)
  local q = string.sub(v, 1, nl - 1)
  redis.call('HSET', P .. 'bodies', id, string.sub(v, nl + 1))
  redis.call('ZADD', P .. 'q:' .. q .. ':pending', 0, id)
  redis.call('SADD', P .. 'queues', q)
  n = n + 1
end)
scan(A, function(alias, target)
  if not redis.call('HGET', P .. 'aliases', alias) then redis.call('HSET', P .. 'aliases', alias, target); na = na + 1 end
end)
if na > 0 then redis.call('HSET', P .. 'meta', 'alias_version', ARGV[5]) end
local cur = redis.call('HGET', P .. 'meta', 'last_ts') or '0'
cur = string.gsub(cur, '^0+', '')
if #ARGV[4] > #cur or (#ARGV[4] == #cur and ARGV[4] > cur) then redis.call('HSET', P .. 'meta', 'last_ts', ARGV[4]) end
redis.call('DEL', S, A)
if n > 0 then redis.call('PUBLISH', P .. 'activity:all', '*') end
return {'ok', n, na}`;

/** Stage, validate, then apply `input` in one script (see the module comment). */
export async function loadIntoRedis(send: Send, prefix: string, input: LoadInput): Promise<LoadResult> {
  const token = crypto.randomUUID();
  const msgs = `${prefix}load:${token}:msgs`;
  const aliases = `${prefix}load:${token}:aliases`;
  let batch: MessageRecord[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const args = [prefix, msgs, STAGE_TTL_MS];
    for (const r of batch) args.push(idMember(r.id), r.queue, r.body);
    const dup = Number(await send("EVAL", [STAGE, "0", ...args]));
    if (dup > 0) throw input.reject(batch[dup - 1]!, `duplicate message id ${idMember(batch[dup - 1]!.id)}`);
    batch = [];
  };
  try {
    for await (const r of input.records) {
      if (r.kind === "message") {
        batch.push(r);
        if (batch.length >= BATCH) await flush();
      } else {
        const current = (await send("HGET", [`${prefix}aliases`, r.alias])) as string | null;
        if (current !== null && current !== r.target) throw input.reject(r, `alias '${r.alias}' already points to '${current}'`);
        const staged = (await send("HGET", [aliases, r.alias])) as string | null;
        if (staged !== null && staged !== r.target) throw input.reject(r, `alias '${r.alias}' already points to '${staged}'`);
        await send("HSET", [aliases, r.alias, r.target]);
        await send("PEXPIRE", [aliases, STAGE_TTL_MS]);
      }
    }
    await flush();
    const out = (await send("EVAL", [
      APPLY,
      "0",
      prefix,
      msgs,
      aliases,
      input.lastTs.toString(),
      String(wallClockNs()),
    ])) as unknown[];
    if (out[0] === "dup")
      throw new BackendError(`Load refused: message id ${String(out[1])} was written while the load ran; nothing was changed`);
    if (out[0] === "alias")
      throw new BackendError(`Load refused: alias '${String(out[1])}' now points to '${String(out[2])}'; nothing was changed`);
    return { messages: Number(out[1]), aliases: Number(out[2]) };
  } finally {
    await send("DEL", [msgs, aliases]).catch(() => {});
  }
}
