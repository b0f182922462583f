/**
 * The Lua helpers every script of scripts.ts starts with: key names from the
 * prefix (`ARGV[1]`), the namespace guard, id arithmetic, batched zset/hash
 * calls, wake-ups, the return of stale reservations and of due held messages.
 *
 * Ids are 63-bit integers but Lua numbers are doubles, so the scripts carry an
 * id as (grain, counter) = (id >> 12, id & 0xFFF) — both exact in a double —
 * and convert from and to the 19-digit decimal member form. The next id
 * follows `nextHybridTimestamp` (lib/time/timestamp.ts): a newer wall-clock grain
 * restarts the counter, else the counter of `meta.last_ts` goes up, carrying
 * into the next grain after 4095.
 * @module
 */

export const PRELUDE = `
local P = ARGV[1]
local META, BODIES, QUEUES = P .. 'meta', P .. 'bodies', P .. 'queues'
local LEASES, ATTEMPTS, HELDQ = P .. 'leases', P .. 'attempts', P .. 'heldq'
local function qk(q, kind) return P .. 'q:' .. q .. ':' .. kind end
local function bk(tok, kind) return P .. 'batches:' .. tok .. ':' .. kind end
local function fail(kind, msg) error({err = kind .. ' ' .. msg}) end

local function guard(create)
  local m = redis.call('HGET', META, 'magic')
  if not m then
    if create then
      redis.call('HSET', META, 'magic', 'simplebroker-v1', 'schema_version', '1', 'last_ts', '0', 'alias_version', '0')
    end
    return create
  end
  if m ~= 'simplebroker-v1' then
    fail('SBERR', "Redis namespace '" .. P .. "' is not a SimpleBroker namespace (magic '" .. m .. "')")
  end
  local v = tonumber(redis.call('HGET', META, 'schema_version') or '0') or 0
  if v > 1 then
    fail('SBERR', 'Redis schema version ' .. v .. ' is newer than supported version 1. Please upgrade SimpleBroker.')
  end
  return true
end

local function split(s)
  local g, c = 0, 0
  for i = 1, #s do
    local t = c * 10 + (string.byte(s, i) - 48)
    c = t % 4096
    g = g * 10 + (t - c) / 4096
  end
  return g, c
end

local function join(g, c)
  local gl = g % 1000000
  local low = gl * 4096 + c
  local ll = low % 1000000
  local hi = ((g - gl) / 1000000) * 4096 + (low - ll) / 1000000
  local s = hi > 0 and string.format('%d%06d', hi, ll) or string.format('%d', ll)
  return string.rep('0', 19 - #s) .. s
end

local function idgen(now)
  local lg, lc = split(redis.call('HGET', META, 'last_ts') or '0')
  local ng = split(now)
  local gen = {}
  function gen.next()
    repeat
      if ng > lg then lg, lc = ng, 0 elseif lc < 4095 then lc = lc + 1 else lg, lc = lg + 1, 0 end
      if lg >= 2251799813685248 then fail('SBERR', 'Timestamp too far in future') end
      local id = join(lg, lc)
      if redis.call('HEXISTS', BODIES, id) == 0 then return id end
    until false
  end
  function gen.save()
    local s = string.gsub(join(lg, lc), '^0+', '')
    redis.call('HSET', META, 'last_ts', s == '' and '0' or s)
  end
  return gen
end

local function chunks(list, fn)
  for i = 1, #list, 500 do fn(i, math.min(i + 499, #list)) end
end
local function zadd(key, ids)
  chunks(ids, function(a, b)
    local args = {}
    for j = a, b do args[#args + 1] = '0'; args[#args + 1] = ids[j] end
    redis.call('ZADD', key, unpack(args))
  end)
end
local function zrem(key, ids) chunks(ids, function(a, b) redis.call('ZREM', key, unpack(ids, a, b)) end) end
local function hdel(ids, keys)
  for _, key in ipairs(keys or {BODIES, LEASES, ATTEMPTS}) do
    chunks(ids, function(a, b) redis.call('HDEL', key, unpack(ids, a, b)) end)
  end
end
local function bodies(ids)
  local out = {}
  chunks(ids, function(a, b)
    local vals = redis.call('HMGET', BODIES, unpack(ids, a, b))
    for k = 1, #vals do out[#out + 1] = ids[a + k - 1]; out[#out + 1] = vals[k] or '' end
  end)
  return out
end
-- The ids of a comma-separated list (a claim token's record) that are still members of the zset key.
local function still(key, list)
  local out = {}
  for id in string.gmatch(list, '[^,]+') do
    if redis.call('ZSCORE', key, id) then out[#out + 1] = id end
  end
  return out
end
local function wake(q) redis.call('PUBLISH', P .. 'activity:q:' .. q, q) end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function touch(q)
  local n = redis.call('ZCARD', qk(q, 'pending')) + redis.call('ZCARD', qk(q, 'claimed'))
  if n + redis.call('ZCARD', qk(q, 'reserved')) == 0 then redis.call('SREM', QUEUES, q) end
end

local function release(tok, commit)
  local q = redis.call('HGET', bk(tok, 'meta'), 'queue')
  if not q then return -1 end
  local dest = redis.call('HGET', bk(tok, 'meta'), 'dest') or ''
  local ids = redis.call('ZRANGE', bk(tok, 'ids'), 0, -1)
  zrem(qk(q, 'reserved'), ids)
  local woke = nil
  if not commit then zadd(qk(q, 'pending'), ids); woke = q
  elseif dest == '' then zadd(qk(q, 'claimed'), ids)
  else zadd(qk(dest, 'pending'), ids); redis.call('SADD', QUEUES, dest); woke = dest end
  redis.call('DEL', bk(tok, 'meta'), bk(tok, 'ids'))
  redis.call('ZREM', qk(q, 'batches'), tok)
  touch(q)
  if woke and #ids > 0 then wake(woke) end
  return #ids
end

-- Held messages (docs/leases.md#redis) whose deadline or due time is past go back to pending.
local function promote(q, now)
  local key, n = qk(q, 'held'), 0
  repeat
    local due = redis.call('ZRANGEBYSCORE', key, '-inf', now, 'LIMIT', 0, 500)
    if #due == 0 then break end
    zrem(key, due)
    hdel(due, {LEASES})
    zadd(qk(q, 'pending'), due)
    n = n + #due
  until #due < 500
  if n > 0 then
    redis.call('SADD', QUEUES, q)
    if redis.call('EXISTS', key) == 0 then redis.call('SREM', HELDQ, q) end
    wake(q)
  end
  return n
end

local function expire(q)
  local now = string.format('%d', now_ms())
  local stale = redis.call('ZRANGEBYSCORE', qk(q, 'batches'), '-inf', now)
  for _, tok in ipairs(stale) do release(tok, false) end
  promote(q, now)
end

local function pick(key, after, before, exact, offset, limit)
  if exact ~= '' then
    if redis.call('ZSCORE', key, exact) then return {exact} end
    return {}
  end
  local lo, hi = '-', '+'
  if after ~= '' then lo = '(' .. after end
  if before ~= '' then hi = '(' .. before end
  return redis.call('ZRANGEBYLEX', key, lo, hi, 'LIMIT', offset, limit)
end
`;
