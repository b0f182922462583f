/**
 * The Lua scripts of the Redis backend: every state change is one script, so
 * it is atomic on the server (docs/on-disk-format.md#redis). `ARGV[1]` is always the key prefix;
 * the keys are derived from it (standalone Redis / Valkey, no cluster). Each
 * script is the shared prelude (prelude.ts) followed by its body.
 * @module
 */
import { LEASE_BODIES, LEASE_PRELUDE } from "./lease-scripts.ts";
import { PRELUDE } from "./prelude.ts";

const BODIES = {
  /** → {magic, schema_version} */
  init: `guard(true)
return redis.call('HMGET', META, 'magic', 'schema_version')`,

  /** queue, now_ns, body… → ids */
  write: `guard(true)
local q, gen, ids = ARGV[2], idgen(ARGV[3]), {}
for i = 4, #ARGV do ids[#ids + 1] = gen.next() end
chunks(ids, function(a, b)
  local args = {}
  for j = a, b do args[#args + 1] = ids[j]; args[#args + 1] = ARGV[j + 3] end
  redis.call('HSET', BODIES, unpack(args))
end)
zadd(qk(q, 'pending'), ids)
redis.call('SADD', QUEUES, q)
gen.save()
wake(q)
return ids`,

  /**
   * queue, limit, after, before, exact, token → {id, body, …}. What a token took is recorded for
   * ten minutes: the same token again returns it (the ids still claimed) instead of claiming
   * (docs/outages.md#claims-across-a-dropped-connection).
   */
  claim: `guard(false)
local q, done = ARGV[2], P .. 'claims:' .. ARGV[7]
local prior = redis.call('GET', done)
if prior then return bodies(still(qk(q, 'claimed'), prior)) end
expire(q)
local ids = pick(qk(q, 'pending'), ARGV[4], ARGV[5], ARGV[6], 0, ARGV[3])
if #ids == 0 then return {} end
zrem(qk(q, 'pending'), ids)
zadd(qk(q, 'claimed'), ids)
redis.call('SET', done, table.concat(ids, ','), 'PX', '600000')
return bodies(ids)`,

  /** queue, limit, after, before, exact, offset, includeClaimed(1|0) → {id, body, …} */
  peek: `guard(false)
local q = ARGV[2]
expire(q)
if ARGV[8] ~= '1' then return bodies(pick(qk(q, 'pending'), ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[3])) end
local off, lim, all, page = tonumber(ARGV[7]), tonumber(ARGV[3]), {}, {}
for _, kind in ipairs({'pending', 'reserved', 'claimed'}) do
  for _, id in ipairs(pick(qk(q, kind), ARGV[4], ARGV[5], ARGV[6], 0, off + lim)) do all[#all + 1] = id end
end
table.sort(all)
for i = off + 1, math.min(#all, off + lim) do page[#page + 1] = all[i] end
return bodies(page)`,

  /** source, target, retargetAliases(1|0) → {rows renamed, aliases retargeted} */
  rename: `guard(false)
local src, dst = ARGV[2], ARGV[3]
expire(src)
local function size(q)
  local n = redis.call('ZCARD', qk(q, 'pending')) + redis.call('ZCARD', qk(q, 'claimed')) + redis.call('ZCARD', qk(q, 'reserved'))
  return n + redis.call('ZCARD', qk(q, 'held'))
end
if size(dst) > 0 then fail('SBARG', 'Target queue already exists') end
local n = size(src)
if n == 0 then return {0, 0} end
for _, tok in ipairs(redis.call('ZRANGE', qk(src, 'batches'), 0, -1)) do redis.call('HSET', bk(tok, 'meta'), 'queue', dst) end
for _, kind in ipairs({'pending', 'claimed', 'reserved', 'batches', 'held'}) do
  if redis.call('EXISTS', qk(src, kind)) == 1 then redis.call('RENAME', qk(src, kind), qk(dst, kind)) end
end
redis.call('SREM', QUEUES, src)
redis.call('SADD', QUEUES, dst)
if redis.call('SREM', HELDQ, src) == 1 then redis.call('SADD', HELDQ, dst) end
local a = 0
if ARGV[4] == '1' then
  local pairs_ = redis.call('HGETALL', P .. 'aliases')
  for i = 1, #pairs_, 2 do
    if pairs_[i + 1] == src then redis.call('HSET', P .. 'aliases', pairs_[i], dst); a = a + 1 end
  end
  if a > 0 then redis.call('HINCRBY', META, 'alias_version', 1) end
end
wake(dst)
return {n, a}`,

  /** source, target, limit, after, before, exact, requireUnclaimed(1|0) → {id, body, …} */
  move: `guard(false)
local src, dst = ARGV[2], ARGV[3]
expire(src)
local from = qk(src, 'pending')
local ids = pick(from, ARGV[5], ARGV[6], ARGV[7], 0, ARGV[4])
if #ids == 0 and ARGV[7] ~= '' and ARGV[8] == '0' then
  from = qk(src, 'claimed')
  ids = pick(from, '', '', ARGV[7], 0, 1)
end
if #ids == 0 then return {} end
zrem(from, ids)
zadd(qk(dst, 'pending'), ids)
redis.call('SADD', QUEUES, dst)
touch(src)
wake(dst)
return bodies(ids)`,

  /** queue, limit, after, before, exact, dest, token, timeout_ms → {id, body, …} */
  reserve: `guard(false)
local q, tok = ARGV[2], ARGV[8]
-- The same token again (its answer was lost): the reservation it made, if still open.
if redis.call('EXISTS', bk(tok, 'meta')) == 1 then return bodies(redis.call('ZRANGE', bk(tok, 'ids'), 0, -1)) end
expire(q)
local ids = pick(qk(q, 'pending'), ARGV[4], ARGV[5], ARGV[6], 0, ARGV[3])
if #ids == 0 then return {} end
local deadline = string.format('%d', now_ms() + tonumber(ARGV[9]))
zrem(qk(q, 'pending'), ids)
zadd(qk(q, 'reserved'), ids)
zadd(bk(tok, 'ids'), ids)
redis.call('HSET', bk(tok, 'meta'), 'queue', q, 'dest', ARGV[7], 'deadline', deadline)
redis.call('ZADD', qk(q, 'batches'), deadline, tok)
return bodies(ids)`,

  /** token, commit(1|0) → ids released, -1 when the reservation no longer exists */
  finish: `return release(ARGV[2], ARGV[3] == '1')`,

  /** queue, all(1|0) → rows deleted */
  delete: `guard(false)
local function drop(q, keep)
  local n = 0
  for _, kind in ipairs({'pending', 'claimed', 'reserved', 'held'}) do
    local key = qk(q, kind)
    if keep then n = n + redis.call('ZCARD', key) end
    -- A thousand ids at a time: a million-message queue is never one reply in the script's memory.
    while not keep do
      local ids = redis.call('ZRANGE', key, 0, 999)
      if #ids == 0 then break end
      hdel(ids)
      redis.call('ZREMRANGEBYRANK', key, 0, #ids - 1)
      n = n + #ids
    end
    redis.call('DEL', key)
  end
  for _, tok in ipairs(redis.call('ZRANGE', qk(q, 'batches'), 0, -1)) do
    redis.call('DEL', bk(tok, 'meta'), bk(tok, 'ids'))
  end
  redis.call('DEL', qk(q, 'batches'))
  redis.call('SREM', QUEUES, q)
  redis.call('SREM', HELDQ, q)
  return n
end
if ARGV[3] ~= '1' then return drop(ARGV[2], false) end
local n = 0
local names = redis.call('SUNION', QUEUES, HELDQ)
for _, q in ipairs(names) do n = n + drop(q, true) end
redis.call('DEL', BODIES, QUEUES, LEASES, ATTEMPTS)
redis.call('PUBLISH', P .. 'activity:all', '*')
return n`,

  /**
   * body, now_ns, mode ('' = every queue, 'q' = the n queues given, 'ql' = the same but -1 when a
   * queue outside the listed names has rows), n, queue…, listed… → queues written (or -1).
   * Names were chosen by the client: set lookups only, no pattern matching in here.
   */
  broadcast: `guard(true)
local names, mode, targets = redis.call('SMEMBERS', QUEUES), ARGV[4], {}
if mode == '' then
  table.sort(names)
  targets = names
else
  local n, have = tonumber(ARGV[5]), {}
  if mode == 'ql' then
    local listed = {}
    for i = 6 + n, #ARGV do listed[ARGV[i]] = true end
    for _, q in ipairs(names) do if not listed[q] then return -1 end end
  end
  for _, q in ipairs(names) do have[q] = true end
  for i = 6, 5 + n do if have[ARGV[i]] then targets[#targets + 1] = ARGV[i] end end
end
if #targets == 0 then return 0 end
local gen = idgen(ARGV[3])
for _, q in ipairs(targets) do
  local id = gen.next()
  redis.call('HSET', BODIES, id, ARGV[2])
  redis.call('ZADD', qk(q, 'pending'), '0', id)
end
gen.save()
redis.call('PUBLISH', P .. 'activity:all', '*')
return #targets`,

  /** queue ('' = every queue) → {queue, pending, claimed, reserved, …} */
  stats: `guard(false)
if ARGV[2] == '' then
  for _, q in ipairs(redis.call('SMEMBERS', HELDQ)) do promote(q, string.format('%d', now_ms())) end
end
local names = ARGV[2] == '' and redis.call('SMEMBERS', QUEUES) or {ARGV[2]}
local out = {}
for _, q in ipairs(names) do
  expire(q)
  local p, c, r = redis.call('ZCARD', qk(q, 'pending')), redis.call('ZCARD', qk(q, 'claimed')), redis.call('ZCARD', qk(q, 'reserved'))
  if ARGV[2] ~= '' or p + c + r > 0 then
    out[#out + 1] = q; out[#out + 1] = p; out[#out + 1] = c; out[#out + 1] = r
  end
end
return out`,

  /** queue, after → 1 when a pending id above after exists */
  hasPending: `guard(false)
local q = ARGV[2]
expire(q)
local lo = ARGV[3] ~= '' and ('(' .. ARGV[3]) or '-'
return #redis.call('ZRANGEBYLEX', qk(q, 'pending'), lo, '+', 'LIMIT', 0, 1)`,

  /** → {total messages, last_ts} */
  status: `guard(false)
return {redis.call('HLEN', BODIES), redis.call('HGET', META, 'last_ts') or '0'}`,

  /** now_ns → a fresh id */
  timestamp: `guard(true)
local gen = idgen(ARGV[2])
local id = gen.next()
gen.save()
return id`,

  /** alias, target → 1 */
  addAlias: `guard(true)
local A, alias, target = P .. 'aliases', ARGV[2], ARGV[3]
if redis.call('HEXISTS', A, alias) == 1 then fail('SBARG', "Alias '" .. alias .. "' already exists") end
if redis.call('HEXISTS', A, target) == 1 then fail('SBARG', 'Cannot target another alias') end
local t, hops, n = target, 0, redis.call('HLEN', A)
while t and hops <= n do
  if t == alias then fail('SBARG', 'Alias cycle detected') end
  t = redis.call('HGET', A, t)
  hops = hops + 1
end
redis.call('HSET', A, alias, target)
redis.call('HINCRBY', META, 'alias_version', 1)
return 1`,

  /** alias → 1 removed, 0 absent */
  removeAlias: `if not guard(false) then return 0 end
local n = redis.call('HDEL', P .. 'aliases', ARGV[2])
if n > 0 then redis.call('HINCRBY', META, 'alias_version', 1) end
return n`,

  /** batch size → claimed rows deleted (call again while it returns the batch size) */
  vacuum: `guard(false)
local left, n = tonumber(ARGV[2]), 0
for _, q in ipairs(redis.call('SMEMBERS', QUEUES)) do
  if left <= 0 then break end
  local ids = redis.call('ZRANGE', qk(q, 'claimed'), 0, left - 1)
  if #ids > 0 then
    zrem(qk(q, 'claimed'), ids)
    hdel(ids)
    n, left = n + #ids, left - #ids
    touch(q)
  end
end
return n`,

  /** token → 1 when our vacuum lock was released */
  unlock: `if redis.call('GET', P .. 'vacuum_lock') == ARGV[2] then return redis.call('DEL', P .. 'vacuum_lock') end
return 0`,
} as const;

/** Names of the scripts (those of lease-scripts.ts included). */
export type ScriptName = keyof typeof BODIES | keyof typeof LEASE_BODIES;

/** A script: its source and its SHA-1 (for EVALSHA). */
export interface LuaScript {
  readonly name: ScriptName;
  readonly source: string;
  readonly sha: string;
}

const cache = new Map<ScriptName, LuaScript>();

/** The full source (prelude + body) of a script, with its SHA-1. */
export function script(name: ScriptName): LuaScript {
  let s = cache.get(name);
  if (!s) {
    const source =
      name in LEASE_BODIES
        ? `${PRELUDE}\n${LEASE_PRELUDE}\n${LEASE_BODIES[name as keyof typeof LEASE_BODIES]}\n`
        : `${PRELUDE}\n${BODIES[name as keyof typeof BODIES]}\n`;
    s = { name, source, sha: new Bun.CryptoHasher("sha1").update(source).digest("hex") };
    cache.set(name, s);
  }
  return s;
}
