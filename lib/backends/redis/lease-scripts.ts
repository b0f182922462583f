/**
 * The Lua scripts of leases and delays on Redis (docs/leases.md#redis), one
 * per transition, each after the shared prelude (prelude.ts) and the helpers
 * below. A held message stays in `bodies`; it is out of `q:<queue>:pending`
 * and in `q:<queue>:held`, scored by its deadline or due time (ms, server
 * clock); `leases` maps the id of a leased one to its token, `attempts`
 * counts the leases of an id until it is acked, read and vacuumed, or deleted.
 * `heldq` lists the queues with held messages.
 * @module
 */

/** Helpers of the lease scripts (after the prelude). */
export const LEASE_PRELUDE = `
-- The ids among ARGV[from..] that queue q holds under a live lease (with token tok unless tok is '').
local function leased(q, tok, from, now)
  local held, out = qk(q, 'held'), {}
  for i = from, #ARGV do
    local id = ARGV[i]
    local due = redis.call('ZSCORE', held, id)
    local t = due and tonumber(due) > now and redis.call('HGET', LEASES, id)
    if t and (tok == '' or tok == t) then out[#out + 1] = id end
  end
  table.sort(out)
  return out
end
local function settle(q)
  if redis.call('EXISTS', qk(q, 'held')) == 0 then redis.call('SREM', HELDQ, q) end
end
local function hold(q, ids, due)
  local held = qk(q, 'held')
  chunks(ids, function(a, b)
    local args = {}
    for j = a, b do args[#args + 1] = due; args[#args + 1] = ids[j] end
    redis.call('ZADD', held, unpack(args))
  end)
  redis.call('SADD', HELDQ, q)
end
local function pend(q, ids)
  if #ids == 0 then return end
  zadd(qk(q, 'pending'), ids)
  redis.call('SADD', QUEUES, q)
  wake(q)
end
`;

/** Script bodies by name: ARGV[1] is the key prefix, the rest as noted. */
export const LEASE_BODIES = {
  /** queue, limit, after, before, exact, lease_ms, token → {deadline, {id, body, attempt, …}} */
  lease: `guard(false)
local q = ARGV[2]
expire(q)
local ids = pick(qk(q, 'pending'), ARGV[4], ARGV[5], ARGV[6], 0, ARGV[3])
if #ids == 0 then return {'0', {}} end
local due = string.format('%d', now_ms() + tonumber(ARGV[7]))
zrem(qk(q, 'pending'), ids)
hold(q, ids, due)
local out = {}
for _, id in ipairs(ids) do
  redis.call('HSET', LEASES, id, ARGV[8])
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', BODIES, id) or ''
  out[#out + 1] = redis.call('HINCRBY', ATTEMPTS, id, 1)
end
touch(q)
return {due, out}`,

  /** queue, token ('' = any), id… → ids acked */
  ack: `if not guard(false) then return {} end
local q = ARGV[2]
local ids = leased(q, ARGV[3], 4, now_ms())
zrem(qk(q, 'held'), ids)
hdel(ids)
settle(q)
return ids`,

  /** queue, token, delay_ms ('0' = at once), id… → ids released */
  release: `if not guard(false) then return {} end
local q = ARGV[2]
local now = now_ms()
local ids = leased(q, ARGV[3], 5, now)
hdel(ids, {LEASES})
local delay = tonumber(ARGV[4])
if delay > 0 then
  hold(q, ids, string.format('%d', now + delay))
  if #ids > 0 then wake(q) end
else
  zrem(qk(q, 'held'), ids)
  pend(q, ids)
  settle(q)
end
return ids`,

  /** queue, token, lease_ms, id → 1 extended, 0 not under that lease */
  extend: `if not guard(false) then return 0 end
local q = ARGV[2]
local now = now_ms()
local ids = leased(q, ARGV[3], 5, now)
if #ids == 0 then return 0 end
redis.call('ZADD', qk(q, 'held'), 'XX', string.format('%d', now + tonumber(ARGV[4])), ids[1])
return 1`,

  /** queue, token, target, id… → ids moved to the target's pending set */
  deadLetter: `if not guard(false) then return {} end
local q = ARGV[2]
local ids = leased(q, ARGV[3], 5, now_ms())
zrem(qk(q, 'held'), ids)
hdel(ids, {LEASES, ATTEMPTS})
pend(ARGV[4], ids)
settle(q)
return ids`,

  /** queue, now_ns, due_ms (or "+delay_ms" from the server's clock), body… → ids (allocated as the write script does) */
  writeDelayed: `guard(true)
local q, gen, ids = ARGV[2], idgen(ARGV[3]), {}
local due = ARGV[4]
if string.sub(due, 1, 1) == '+' then due = string.format('%d', now_ms() + tonumber(string.sub(due, 2))) end
for i = 5, #ARGV do ids[#ids + 1] = gen.next() end
chunks(ids, function(a, b)
  local args = {}
  for j = a, b do args[#args + 1] = ids[j]; args[#args + 1] = ARGV[j + 4] end
  redis.call('HSET', BODIES, unpack(args))
end)
hold(q, ids, due)
gen.save()
wake(q)
return ids`,

  /** queue ('' = every queue) → messages returned to pending */
  promoteDue: `if not guard(false) then return 0 end
local now = string.format('%d', now_ms())
local names = ARGV[2] == '' and redis.call('SMEMBERS', HELDQ) or {ARGV[2]}
local n = 0
for _, q in ipairs(names) do n = n + promote(q, now) end
return n`,

  /** queue ('' = every queue) → {queue, leased, scheduled, …} for queues with held messages */
  heldStats: `if not guard(false) then return {} end
local now = string.format('%d', now_ms())
local names = ARGV[2] == '' and redis.call('SMEMBERS', HELDQ) or {ARGV[2]}
local out = {}
for _, q in ipairs(names) do
  promote(q, now)
  local ids, leased_ = redis.call('ZRANGE', qk(q, 'held'), 0, -1), 0
  chunks(ids, function(a, b)
    for _, t in ipairs(redis.call('HMGET', LEASES, unpack(ids, a, b))) do
      if t then leased_ = leased_ + 1 end
    end
  end)
  if #ids > 0 then out[#out + 1] = q; out[#out + 1] = leased_; out[#out + 1] = #ids - leased_ end
end
return out`,

  /** queue… → ms until the next held id of those queues is due, after returning the due ones; -1 when none is held */
  untilDue: `if not guard(false) then return -1 end
local now, best = now_ms(), nil
for i = 2, #ARGV do
  promote(ARGV[i], string.format('%d', now))
  local first = redis.call('ZRANGE', qk(ARGV[i], 'held'), 0, 0, 'WITHSCORES')
  if first[2] then
    local d = tonumber(first[2]) - now
    if not best or d < best then best = d end
  end
end
return best and string.format('%d', best) or -1`,

  /** queue, after ('' = from the start), limit → {id, body, leased (1|0), due, attempt, …} in id order */
  peekHeld: `if not guard(false) then return {} end
local q, after, limit = ARGV[2], ARGV[3], tonumber(ARGV[4])
promote(q, string.format('%d', now_ms()))
local all, ids = redis.call('ZRANGE', qk(q, 'held'), 0, -1), {}
for _, id in ipairs(all) do if after == '' or id > after then ids[#ids + 1] = id end end
table.sort(ids)
local out = {}
for i = 1, math.min(#ids, limit) do
  local id = ids[i]
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', BODIES, id) or ''
  out[#out + 1] = redis.call('HEXISTS', LEASES, id)
  out[#out + 1] = redis.call('ZSCORE', qk(q, 'held'), id)
  out[#out + 1] = tonumber(redis.call('HGET', ATTEMPTS, id) or '0')
end
return out`,
} as const;
