// The cluster's atomic steps, one Lua script each (docs/clusters.md).
// KEYS[1] is always the session's prefix `jarvis:{owner/session}:`: every key a
// script touches is built from it, so all share its hash slot.
//
// Fences are microsecond-sized integers: Lua numbers (doubles) hold them exactly
// (< 2^53), and they are written with %d, never tostring (which would give 1.7e+15).

const COMMON = `
local p = KEYS[1]
local function nextFence()
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local f = redis.call('INCR', p .. 'fence')
  if f < now then
    f = now
    redis.call('SET', p .. 'fence', string.format('%d', f))
  end
  return string.format('%d', f)
end
local function lastId(log)
  local last = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)
  if last[1] then return last[1][1] end
  return '0-0'
end
-- Ends a stream whose owner stopped renewing its lease: a terminal error/lost, under a new fence
-- (so the old owner's late writes are refused), written once.
local function lose(id, retention)
  local meta = p .. 'meta:' .. id
  local log = p .. 'log:' .. id
  local m = redis.call('HMGET', meta, 'term', 'session', 'inst')
  if m[1] or not m[2] then return false end
  local a, b = string.match(lastId(log), '^(%d+)-(%d+)$')
  local term = cjson.encode({type = 'error', code = 'lost', message = 'the instance running this stream (' .. (m[3] or '?') .. ') stopped renewing its lease: it died or hung, and the answer ends here', stream_id = id, session_id = m[2]})
  redis.call('XADD', log, a .. '-' .. (tonumber(b) + 1), 't', 'e', 'v', term)
  redis.call('HSET', meta, 'term', term, 'fence', nextFence())
  redis.call('PEXPIRE', meta, retention)
  redis.call('PEXPIRE', log, retention)
  return true
end
`;

/**
 * Takes the session for a new stream. ARGV: stream, instance, owner, session, model,
 * status JSON, leaseMs, liveTtlMs, retentionMs. Returns {fence, prevStream, prevInstance, prevState}
 * where prevState is '' (none), 'live' (stop marker written: wait for its release) or 'lost'.
 */
export const ACQUIRE = `${COMMON}
local id, inst = ARGV[1], ARGV[2]
local lease, ttl, retention = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local fence = nextFence()
local res = {fence, '', '', ''}
local prev = redis.call('GET', p .. 'cur')
if prev then
  local pid, pfence, pinst = string.match(prev, '^(%S+) (%S+) (%S+)$')
  if pid and pid ~= id then
    local pmeta = p .. 'meta:' .. pid
    if redis.call('EXISTS', pmeta) == 1 and not redis.call('HGET', pmeta, 'term') then
      if redis.call('EXISTS', p .. 'lease:' .. pid) == 1 then
        redis.call('HSETNX', pmeta, 'stop', 'superseded')
        res = {fence, pid, pinst, 'live'}
      elseif lose(pid, retention) then
        res = {fence, pid, pinst, 'lost'}
      end
    elseif redis.call('EXISTS', p .. 'lease:' .. pid) == 1 then
      -- Ended, still releasing its upstream: the successor waits for that too.
      res = {fence, pid, pinst, 'live'}
    end
  end
end
local meta, log = p .. 'meta:' .. id, p .. 'log:' .. id
redis.call('SET', p .. 'cur', id .. ' ' .. fence .. ' ' .. inst, 'PX', ttl)
redis.call('DEL', meta, log)
redis.call('HSET', meta, 'fence', fence, 'owner', ARGV[3], 'session', ARGV[4], 'model', ARGV[5], 'inst', inst)
redis.call('XADD', log, '1-0', 't', 's', 'v', ARGV[6])
redis.call('PEXPIRE', meta, ttl)
redis.call('PEXPIRE', log, ttl)
redis.call('SET', p .. 'lease:' .. id, fence, 'PX', lease)
redis.call('SET', 'jarvis:stream:' .. id, p, 'PX', ttl)
return res
`;

/**
 * Writes a batch of log entries. ARGV: stream, fence, expectedLastId, maxLen, liveTtlMs, retentionMs,
 * refreshTtl ('1': extend a running stream's keys to liveTtlMs; the writer asks for it every
 * liveTtlMs/10, not at every batch: three PEXPIREs were most of a token's Redis commands),
 * then (id, type, value) triples; a type 'e' (terminal) sets the stream's terminal too and always
 * sets the keys' expiry to retentionMs.
 * Returns {'ok'} · {'gone'} (wiped) · {'fenced'} · {'ended'} · {'rewind', lastId} · {'stopped', reason}.
 * Tokens are refused under a stop marker; a batch that ends with the terminal event is the owner
 * concluding, and is written whole.
 */
export const PUSH = `${COMMON}
local id, fence = ARGV[1], ARGV[2]
local meta, log = p .. 'meta:' .. id, p .. 'log:' .. id
local m = redis.call('HMGET', meta, 'fence', 'term', 'stop')
if not m[1] then return {'gone'} end
if m[1] ~= fence then return {'fenced'} end
if m[2] then return {'ended'} end
local last = lastId(log)
if last ~= ARGV[3] then return {'rewind', last} end
local n = #ARGV
local ends = ARGV[n - 1] == 'e'
if m[3] and not ends then return {'stopped', m[3]} end
local maxlen = ARGV[4]
for i = 8, n, 3 do
  redis.call('XADD', log, 'MAXLEN', '~', maxlen, ARGV[i], 't', ARGV[i + 1], 'v', ARGV[i + 2])
  if ARGV[i + 1] == 'e' then redis.call('HSET', meta, 'term', ARGV[i + 2]) end
end
if ends or ARGV[7] == '1' then
  local ttl = ends and ARGV[6] or ARGV[5]
  redis.call('PEXPIRE', meta, ttl)
  redis.call('PEXPIRE', log, ttl)
  redis.call('PEXPIRE', 'jarvis:stream:' .. id, ttl)
end
return {'ok'}
`;

/**
 * The owner's renewal, every lease/3. ARGV: stream, fence, leaseMs.
 * Returns {'ok'} · {'stop', reason} · {'fenced'} (someone else ended or took it: stop writing) · {'gone'} (wiped).
 */
export const RENEW = `${COMMON}
local id, fence = ARGV[1], ARGV[2]
local m = redis.call('HMGET', p .. 'meta:' .. id, 'fence', 'stop')
if not m[1] then return {'gone'} end
if m[1] ~= fence then return {'fenced'} end
redis.call('SET', p .. 'lease:' .. id, fence, 'PX', tonumber(ARGV[3]))
if m[2] then return {'stop', m[2]} end
return {'ok'}
`;

/**
 * After a Redis wipe (restart without persistence): the owner writes its stream's record back,
 * unless another stream took the session meanwhile. ARGV as ACQUIRE's, plus fence.
 * Returns 'restored' or 'taken'.
 */
export const RESTORE = `${COMMON}
local id, inst, fence = ARGV[1], ARGV[2], ARGV[10]
local cur = redis.call('GET', p .. 'cur')
if cur and string.match(cur, '^(%S+)') ~= id then return 'taken' end
local f = tonumber(redis.call('GET', p .. 'fence') or '0')
if f < tonumber(fence) then redis.call('SET', p .. 'fence', fence) end
local meta, log = p .. 'meta:' .. id, p .. 'log:' .. id
local ttl = tonumber(ARGV[8])
redis.call('SET', p .. 'cur', id .. ' ' .. fence .. ' ' .. inst, 'PX', ttl)
if redis.call('EXISTS', meta) == 0 then
  redis.call('DEL', log)
  redis.call('HSET', meta, 'fence', fence, 'owner', ARGV[3], 'session', ARGV[4], 'model', ARGV[5], 'inst', inst)
  redis.call('XADD', log, '1-0', 't', 's', 'v', ARGV[6])
  redis.call('PEXPIRE', meta, ttl)
  redis.call('PEXPIRE', log, ttl)
end
redis.call('SET', p .. 'lease:' .. id, fence, 'PX', tonumber(ARGV[7]))
redis.call('SET', 'jarvis:stream:' .. id, p, 'PX', ttl)
return 'restored'
`;

/**
 * After a Redis wipe, for a stream that has ended (its log is kept for the retention): writes its
 * record back without taking the session (no `cur`: a newer stream may hold it) and with a short
 * lease (no reader takes it for a dead owner's while its log is written back). ARGV as RESTORE's.
 * Returns 'restored' (also when the record is there already: the log is then written from where it is).
 */
export const RESTORE_ENDED = `${COMMON}
local id, inst, fence = ARGV[1], ARGV[2], ARGV[10]
local f = tonumber(redis.call('GET', p .. 'fence') or '0')
if f < tonumber(fence) then redis.call('SET', p .. 'fence', fence) end
local meta, log = p .. 'meta:' .. id, p .. 'log:' .. id
if redis.call('EXISTS', meta) == 1 then return 'restored' end
local ttl = tonumber(ARGV[8])
redis.call('DEL', log)
redis.call('HSET', meta, 'fence', fence, 'owner', ARGV[3], 'session', ARGV[4], 'model', ARGV[5], 'inst', inst)
redis.call('XADD', log, '1-0', 't', 's', 'v', ARGV[6])
redis.call('PEXPIRE', meta, ttl)
redis.call('PEXPIRE', log, ttl)
redis.call('SET', p .. 'lease:' .. id, fence, 'PX', tonumber(ARGV[7]))
redis.call('SET', 'jarvis:stream:' .. id, p, 'PX', ttl)
return 'restored'
`;

/** The owner lets the stream go. ARGV: stream, fence. Publishes on jarvis:released. */
export const RELEASE = `
local p = KEYS[1]
local lease = p .. 'lease:' .. ARGV[1]
if redis.call('GET', lease) == ARGV[2] then redis.call('DEL', lease) end
redis.call('PUBLISH', 'jarvis:released', ARGV[1])
return 1
`;

/**
 * Stop: a durable marker on the session's current stream, then the signal. ARGV: reason, retentionMs.
 * Returns {stream, instance} when a running stream was marked, {'lost', stream, instance} when its
 * lease had lapsed (it is recorded lost here), {} otherwise.
 */
export const STOP = `${COMMON}
local cur = redis.call('GET', p .. 'cur')
if not cur then return {} end
local id, fence, inst = string.match(cur, '^(%S+) (%S+) (%S+)$')
local meta = p .. 'meta:' .. id
if redis.call('EXISTS', meta) == 0 or redis.call('HGET', meta, 'term') then return {} end
if redis.call('EXISTS', p .. 'lease:' .. id) == 0 then
  if lose(id, tonumber(ARGV[2])) then return {'lost', id, inst} end
  return {}
end
redis.call('HSETNX', meta, 'stop', ARGV[1])
redis.call('PUBLISH', 'jarvis:stop', id .. ' ' .. ARGV[1])
return {id, inst}
`;

/**
 * A reader found no new entry for a while: if the lease lapsed with no terminal, record the stream lost.
 * ARGV: stream, retentionMs. Returns {instance, session, owner} of a stream it recorded lost, {} otherwise.
 */
export const CHECK_LOST = `${COMMON}
local id = ARGV[1]
if redis.call('EXISTS', p .. 'lease:' .. id) == 1 then return {} end
local m = redis.call('HMGET', p .. 'meta:' .. id, 'inst', 'session', 'owner')
if lose(id, tonumber(ARGV[2])) then return {m[1] or '', m[2] or '', m[3] or ''} end
return {}
`;
