// The cluster's slot ledger, one Lua script per step (docs/upstreams.md "Across instances").
// KEYS[1] is LEDGER_PREFIX (`jarvis:{upstreams}:`); the keys (upstreamKeys.ts) are built from it.
// Times are Redis's own clock (TIME), so every instance's leases are measured by one clock.
//
// THE RULE (the same as LocalSlotLedger's, src/backends/routing/fairQueue.ts):
// - a candidate is picked as the local ledger picks: the preferred one if it has room, else the
//   lowest (active + 1) / weight among those with room, ties by the candidates' order;
// - a waiter of a queue gets the start tag max(V, lastTag[owner]) + 1, where V is the tag of the
//   last waiter granted in that queue and lastTag[owner] the last tag given to that owner there;
// - waiters are granted in (tag, arrival) order, skipping those none of whose candidates has room:
//   a waiter is granted exactly when it is the first, in that order, among the waiters that have a
//   candidate with room. Granting sets V to its tag.
// A request that finds room while no waiter ahead of it has any is granted at once; it takes a tag
// too (and V moves to it), as it would by joining the queue and being granted first.
// Any instance's script grants every waiter it can, its own or another instance's (`g:<instance>`
// tells the other at its next poll), so a free slot never waits for its waiter's instance to look.

const COMMON = `
local p = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local counts = {}
-- Slots held on an upstream now: holders whose lease has passed are dropped first (once per call).
local function active(name)
  local c = counts[name]
  if c == nil then
    local k = p .. 's:' .. name
    redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
    c = redis.call('ZCARD', k)
    counts[name] = c
  end
  return c
end
-- cands: {{name, maxParallel, weight}, ...}
local function pick(cands, preferred)
  if preferred and preferred ~= '' then
    for _, c in ipairs(cands) do
      if c[1] == preferred and active(c[1]) < c[2] then return c[1] end
    end
  end
  local best, bestLoad = nil, nil
  for _, c in ipairs(cands) do
    local a = active(c[1])
    if a < c[2] then
      local load = (a + 1) / c[3]
      if best == nil or load < bestLoad then best, bestLoad = c[1], load end
    end
  end
  return best
end
local function take(name, member, lease)
  redis.call('ZADD', p .. 's:' .. name, now + lease, member)
  counts[name] = active(name) + 1
end
local function queueKeys(queue)
  return p .. 'q:' .. queue, p .. 'w:' .. queue, p .. 'e:' .. queue, p .. 'f:' .. queue
end
local function leave(queue, m)
  local q, w, e = queueKeys(queue)
  redis.call('ZREM', q, m)
  redis.call('HDEL', w, m)
  redis.call('ZREM', e, m)
end
-- Waiters whose instance stopped polling (killed, or cut off from Redis) for a lease leave.
local function dropDead(queue)
  local q, w, e = queueKeys(queue)
  local dead = redis.call('ZRANGEBYSCORE', e, '-inf', now)
  for _, m in ipairs(dead) do leave(queue, m) end
end
local function tagFor(f, owner)
  local v = tonumber(redis.call('HGET', f, 'v')) or 0
  local last = tonumber(redis.call('HGET', f, 't:' .. owner)) or 0
  local tag = math.max(v, last) + 1
  redis.call('HSET', f, 't:' .. owner, tag)
  return tag
end
-- Grants every waiter of the queue that can go, in fair order (THE RULE above).
local function dispatch(queue, lease)
  dropDead(queue)
  local q, w, e, f = queueKeys(queue)
  local all = redis.call('ZRANGE', q, 0, -1, 'WITHSCORES')
  for i = 1, #all, 2 do
    local m = all[i]
    local d = cjson.decode(redis.call('HGET', w, m))
    local up = pick(d.c, d.p)
    if up then
      local inst, id = string.match(m, '^%d+:([^:]+):(.+)$')
      take(up, inst .. ':' .. id, lease)
      leave(queue, m)
      redis.call('HSET', f, 'v', all[i + 1])
      local g = p .. 'g:' .. inst
      redis.call('HSET', g, m, up)
      redis.call('PEXPIRE', g, lease * 3)
    end
  end
end
`;

/** The fairness state outlives its queue's last waiter by this long (an owner's lastTag matters only while others wait). */
const FAIRNESS_TTL_MS = 3_600_000;

/**
 * A slot for a new request. ARGV: queue, instance, stream, owner, candidates JSON, preferred,
 * leaseMs, maxQueue. Returns {'granted', upstream} · {'queued', position, member, waiters} · {'full', waiters}.
 */
export const ACQUIRE = `${COMMON}
local queue, inst, id, owner = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local lease, maxQueue = tonumber(ARGV[7]), tonumber(ARGV[8])
local q, w, e, f = queueKeys(queue)
dispatch(queue, lease)
-- Every waiter left has no candidate with room: a newcomer that has one is first among those that have.
local up = pick(cjson.decode(ARGV[5]), ARGV[6])
if up then
  take(up, inst .. ':' .. id, lease)
  local tag = tagFor(f, owner)
  redis.call('HSET', f, 'v', tag)
  redis.call('PEXPIRE', f, ${FAIRNESS_TTL_MS})
  return {'granted', up}
end
local waiting = redis.call('ZCARD', q)
if waiting >= maxQueue then return {'full', waiting} end
local tag = tagFor(f, owner)
local n = redis.call('HINCRBY', f, 'n', 1)
local m = string.format('%012d', n) .. ':' .. inst .. ':' .. id
redis.call('ZADD', q, tag, m)
redis.call('HSET', w, m, cjson.encode({o = owner, c = cjson.decode(ARGV[5]), p = ARGV[6]}))
redis.call('ZADD', e, now + lease, m)
redis.call('PEXPIRE', f, ${FAIRNESS_TTL_MS})
return {'queued', redis.call('ZRANK', q, m) + 1, m, waiting + 1}
`;

/**
 * An instance's poll for its waiters: every queue it waits in is dispatched, its waiters' leases
 * renewed, and each waiter told where it stands. ARGV: instance, leaseMs, queue count, the queues,
 * then (queue index, member) pairs. Returns one entry per waiter, 'g:<upstream>' (granted: the
 * slot is held), 'p:<position>' or 'x' (gone: its lease passed), then each queue's length.
 */
export const POLL = `${COMMON}
local inst, lease, nq = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local g = p .. 'g:' .. inst
for i = 1, nq do dispatch(ARGV[3 + i], lease) end
local out = {}
for i = 4 + nq, #ARGV, 2 do
  local queue, m = ARGV[3 + tonumber(ARGV[i])], ARGV[i + 1]
  local q, w, e = queueKeys(queue)
  local up = redis.call('HGET', g, m)
  if up then
    redis.call('HDEL', g, m)
    out[#out + 1] = 'g:' .. up
  elseif redis.call('ZSCORE', e, m) then
    redis.call('ZADD', e, now + lease, m)
    out[#out + 1] = 'p:' .. (redis.call('ZRANK', q, m) + 1)
  else
    out[#out + 1] = 'x'
  end
end
for i = 1, nq do out[#out + 1] = redis.call('ZCARD', p .. 'q:' .. ARGV[3 + i]) end
return out
`;

/**
 * A waiter gives up (aborted, or past its longest wait). ARGV: instance, queue, member, slot member.
 * Returns 'left' · 'released' (it had been granted meanwhile: the slot is freed) · 'gone'.
 */
export const LEAVE = `${COMMON}
local inst, queue, m = ARGV[1], ARGV[2], ARGV[3]
local q = queueKeys(queue)
if redis.call('ZSCORE', q, m) then
  leave(queue, m)
  return 'left'
end
local g = p .. 'g:' .. inst
local up = redis.call('HGET', g, m)
if up then
  redis.call('HDEL', g, m)
  redis.call('ZREM', p .. 's:' .. up, ARGV[4])
  return 'released'
end
return 'gone'
`;

/**
 * An instance's renewal, every lease/3: its held slots' leases (written back when missing: the
 * stream runs on that server, so the count must say so, after a Redis wipe too), and the figures
 * active() and queued() answer from. ARGV: leaseMs, held count, (upstream, member) pairs,
 * upstream count, the upstreams, then the queues. Returns the upstreams' counts, then the queues'.
 */
export const RENEW = `${COMMON}
local lease, nh = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 3, 2 + 2 * nh, 2 do redis.call('ZADD', p .. 's:' .. ARGV[i], now + lease, ARGV[i + 1]) end
local nu = tonumber(ARGV[3 + 2 * nh])
local out = {}
for i = 4 + 2 * nh, 3 + 2 * nh + nu do out[#out + 1] = active(ARGV[i]) end
for i = 4 + 2 * nh + nu, #ARGV do
  dropDead(ARGV[i])
  out[#out + 1] = redis.call('ZCARD', p .. 'q:' .. ARGV[i])
end
return out
`;
