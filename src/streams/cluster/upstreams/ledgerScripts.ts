// The cluster's slot ledger, one Lua script per step (docs/upstreams.md "Across instances").
// KEYS[1] is LEDGER_PREFIX (`jarvis:{upstreams}:`); the keys (upstreamKeys.ts) are built from it.
// Times are Redis's own clock (TIME), so every instance's leases are measured by one clock.
//
// The same rules as the local ledger (src/backends/routing/localLedger.ts, fairQueue.ts and
// slotPick.ts; change them together):
// - PICK: the preferred server if it has room, else the lowest (active + 1) / weight among those
//   with room (weight 0 scores infinity), ties by the candidates' order.
// - A request a candidate has room for is granted at once, without a tag: after every script's
//   dispatch no waiter has a candidate with room, so nobody it would pass could have gone.
// - Else it queues (refused when the queue holds maxQueue): tag = max(V, lastTag[owner]) + 1 and
//   lastTag[owner] = tag; waiters are in (tag, arrival) order, arrival from one counter for every
//   queue; a waiter's position is its 1-based rank in that order.
// - DISPATCH, in rounds: in every queue the first waiter in fair order that PICK finds room for
//   stands for its queue; of those the earliest arrival is granted; until no waiter can be. So
//   within a queue a waiter is granted exactly when it is the first, in fair order, among the
//   waiters that have a candidate with room; between queues, first come first served.
// - A grant sets V = max(V, tag). An owner's lastTag is dropped when its last waiter leaves the
//   queue (granted, stopped, timed out, or its instance gone); an emptied queue is forgotten (V = 0).
// Any instance's script grants every waiter it can, its own or another instance's (`g:<instance>`
// tells the other at its next poll), so a free slot never waits for its waiter's instance to look.

const COMMON = `
local p = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local waitingQueues = p .. 'queues'
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
-- Servers found down and not due for a retry yet (the health board's 'down' set), read once per call.
local downs = nil
local function isDown(name)
  if downs == nil then
    downs = {}
    for _, n in ipairs(redis.call('ZRANGEBYSCORE', p .. 'down', '(' .. now, '+inf')) do downs[n] = true end
  end
  return downs[name] == true
end
-- PICK. cands: {{name, maxParallel, weight}, ...}; one found down since the waiter came is passed over while another is not.
local function pick(cands, preferred)
  local usable = {}
  for _, c in ipairs(cands) do
    if not isDown(c[1]) then usable[#usable + 1] = c end
  end
  if #usable > 0 then cands = usable end
  if preferred and preferred ~= '' then
    for _, c in ipairs(cands) do
      if c[1] == preferred and active(c[1]) < c[2] then return c[1] end
    end
  end
  local best, bestScore = nil, nil
  for _, c in ipairs(cands) do
    local a = active(c[1])
    if a < c[2] then
      local score = math.huge
      if c[3] > 0 then score = (a + 1) / c[3] end
      if best == nil or score < bestScore then best, bestScore = c[1], score end
    end
  end
  return best
end
local function take(name, member, lease)
  local c = active(name)
  redis.call('ZADD', p .. 's:' .. name, now + lease, member)
  counts[name] = c + 1
end
local function queueKeys(queue)
  return p .. 'q:' .. queue, p .. 'w:' .. queue, p .. 'e:' .. queue, p .. 'f:' .. queue
end
local requests = {}
local function request(queue, m)
  local key = queue .. '\\n' .. m
  local d = requests[key]
  if d == nil then
    local raw = redis.call('HGET', p .. 'w:' .. queue, m)
    d = raw and cjson.decode(raw) or false
    requests[key] = d
  end
  return d
end
-- The waiter leaves its queue; its owner's lastTag goes with its owner's last waiter, an emptied queue is forgotten.
local function leave(queue, m)
  local q, w, e, f = queueKeys(queue)
  local d = request(queue, m)
  if redis.call('ZREM', q, m) == 0 then return end
  redis.call('HDEL', w, m)
  redis.call('ZREM', e, m)
  local u = p .. 'u:' .. queue
  if d then
    if redis.call('HINCRBY', f, 'c:' .. d.o, -1) <= 0 then redis.call('HDEL', f, 'c:' .. d.o, 't:' .. d.o) end
    for _, c in ipairs(d.c) do
      if redis.call('HINCRBY', u, c[1], -1) <= 0 then redis.call('HDEL', u, c[1]) end
    end
  end
  if redis.call('ZCARD', q) == 0 then
    redis.call('DEL', q, w, e, f, u)
    redis.call('SREM', waitingQueues, queue)
  end
end
local maxes = nil
-- Whether a server some waiter of the queue could use has room: a poll that finds none reads no waiter.
local function roomIn(queue)
  if maxes == nil then
    maxes = {}
    local all = redis.call('HGETALL', p .. 'max')
    for i = 1, #all, 2 do maxes[all[i]] = tonumber(all[i + 1]) end
  end
  local names = redis.call('HKEYS', p .. 'u:' .. queue)
  if #names == 0 then return true end -- written before the servers' counts were kept: look
  for _, name in ipairs(names) do
    local max = maxes[name]
    if max == nil or active(name) < max then return true end
  end
  return false
end
-- Waiters whose instance stopped polling (killed, or cut off from Redis) for a lease leave.
local function dropDead(queue)
  local q, w, e = queueKeys(queue)
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', e, '-inf', now)) do leave(queue, m) end
end
-- DISPATCH (the rules above).
local function dispatch(lease)
  local queues = redis.call('SMEMBERS', waitingQueues)
  for _, queue in ipairs(queues) do dropDead(queue) end
  while true do
    local best = nil
    for _, queue in ipairs(queues) do
      local all = roomIn(queue) and redis.call('ZRANGE', p .. 'q:' .. queue, 0, -1, 'WITHSCORES') or {}
      for i = 1, #all, 2 do
        local d = request(queue, all[i])
        local up = d and pick(d.c, d.p)
        if up then
          local arrival = tonumber(string.match(all[i], '^(%d+):'))
          if best == nil or arrival < best.arrival then best = {queue = queue, m = all[i], tag = tonumber(all[i + 1]), up = up, arrival = arrival} end
          break
        end
      end
    end
    if best == nil then return end
    local inst, id = string.match(best.m, '^%d+:([^:]+):(.+)$')
    take(best.up, inst .. ':' .. id, lease)
    local f = p .. 'f:' .. best.queue
    redis.call('HSET', f, 'v', math.max(tonumber(redis.call('HGET', f, 'v')) or 0, best.tag))
    leave(best.queue, best.m)
    local g = p .. 'g:' .. inst
    redis.call('HSET', g, best.m, best.up)
    redis.call('PEXPIRE', g, lease * 3)
  end
end
`;

/**
 * A slot for a new request. ARGV: queue, instance, stream, owner, candidates JSON, preferred,
 * leaseMs, maxQueue. Returns {'granted', upstream} · {'queued', position, member, waiters} · {'full', waiters}.
 */
export const ACQUIRE = `${COMMON}
local queue, inst, id, owner = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local lease, maxQueue = tonumber(ARGV[7]), tonumber(ARGV[8])
local q, w, e, f = queueKeys(queue)
dispatch(lease)
local up = pick(cjson.decode(ARGV[5]), ARGV[6])
if up then
  take(up, inst .. ':' .. id, lease)
  return {'granted', up}
end
local waiting = redis.call('ZCARD', q)
if waiting >= maxQueue then return {'full', waiting} end
local v = tonumber(redis.call('HGET', f, 'v')) or 0
local tag = math.max(v, tonumber(redis.call('HGET', f, 't:' .. owner)) or 0) + 1
redis.call('HSET', f, 't:' .. owner, tag)
redis.call('HINCRBY', f, 'c:' .. owner, 1)
local m = string.format('%012d', redis.call('INCR', p .. 'arrivals')) .. ':' .. inst .. ':' .. id
redis.call('ZADD', q, tag, m)
local cands = cjson.decode(ARGV[5])
redis.call('HSET', w, m, cjson.encode({o = owner, c = cands, p = ARGV[6]}))
for _, c in ipairs(cands) do
  redis.call('HINCRBY', p .. 'u:' .. queue, c[1], 1)
  redis.call('HSET', p .. 'max', c[1], c[2])
end
redis.call('ZADD', e, now + lease, m)
redis.call('SADD', waitingQueues, queue)
return {'queued', redis.call('ZRANK', q, m) + 1, m, waiting + 1}
`;

/**
 * An instance's poll for its waiters: a dispatch, the slots given to its waiters (by this
 * script or another instance's), and each waiter's place. ARGV: instance, leaseMs, renew ('1':
 * its waiters' leases are renewed, every third of a lease), queue count, the queues, then
 * (queue index, member) pairs. Returns one entry per waiter, 'g:<upstream>' (granted: the slot
 * is held), 'p:<position>' or 'x' (gone: its lease passed); then each queue's length; then
 * 'member=upstream' for slots given to waiters not in the list (stopped meanwhile: the caller frees them).
 */
export const POLL = `${COMMON}
local inst, lease, renew, nq = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1', tonumber(ARGV[4])
local g = p .. 'g:' .. inst
dispatch(lease)
local granted = {}
local given = redis.call('HGETALL', g)
for i = 1, #given, 2 do granted[given[i]] = given[i + 1] end
if #given > 0 then redis.call('DEL', g) end
-- Each queue's order read once (ZRANK on a small sorted set walks it: once per waiter would be quadratic).
local ranks, lengths = {}, {}
for i = 1, nq do
  local order = redis.call('ZRANGE', p .. 'q:' .. ARGV[4 + i], 0, -1)
  local r = {}
  for j, m in ipairs(order) do r[m] = j end
  ranks[i], lengths[i] = r, #order
end
local out = {}
for i = 5 + nq, #ARGV, 2 do
  local qi, m = tonumber(ARGV[i]), ARGV[i + 1]
  local queue = ARGV[4 + qi]
  local up = granted[m]
  if up then
    granted[m] = nil
    out[#out + 1] = 'g:' .. up
  else
    local rank = ranks[qi][m]
    if rank then
      if renew then redis.call('ZADD', p .. 'e:' .. queue, 'XX', now + lease, m) end
      out[#out + 1] = 'p:' .. rank
    else
      out[#out + 1] = 'x'
    end
  end
end
for i = 1, nq do out[#out + 1] = lengths[i] end
for m, up in pairs(granted) do out[#out + 1] = m .. '=' .. up end
return out
`;

/**
 * A waiter gives up (aborted, or past its longest wait). ARGV: instance, queue, member, slot member, leaseMs.
 * Returns 'left' · 'released' (it had been granted meanwhile: the slot is freed, and handed on) · 'gone'.
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
  dispatch(tonumber(ARGV[5]))
  return 'released'
end
return 'gone'
`;

/**
 * An instance's renewal, every lease/3: its held slots' leases (written back when missing: the
 * stream runs on that server, so the count must say so, after a Redis wipe too), and the figures
 * active() and queued() answer from. ARGV: leaseMs, held count, (upstream, member) pairs,
 * upstream count, the upstreams, then the queues it knows. Returns the upstreams' counts, then
 * 'queue=length' for those queues and every other queue with waiters (another instance's).
 */
export const RENEW = `${COMMON}
local lease, nh = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 3, 2 + 2 * nh, 2 do redis.call('ZADD', p .. 's:' .. ARGV[i], now + lease, ARGV[i + 1]) end
for _, queue in ipairs(redis.call('SMEMBERS', waitingQueues)) do dropDead(queue) end
local nu = tonumber(ARGV[3 + 2 * nh])
local out = {}
for i = 4 + 2 * nh, 3 + 2 * nh + nu do out[#out + 1] = active(ARGV[i]) end
local seen = {}
local function report(queue)
  if seen[queue] then return end
  seen[queue] = true
  out[#out + 1] = queue .. '=' .. redis.call('ZCARD', p .. 'q:' .. queue)
end
for i = 4 + 2 * nh + nu, #ARGV do report(ARGV[i]) end
for _, queue in ipairs(redis.call('SMEMBERS', waitingQueues)) do report(queue) end
return out
`;
