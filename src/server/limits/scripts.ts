// The cluster's limits, one Lua script per step (docs/team.md "Usage and limits").
// KEYS[1] is the key's prefix `jarvis:{limit:<key id>}:`; every key a script touches is
// built from it, so all share its hash slot. Windows are read from Redis's own clock
// (TIME), so every instance counts the same minute and the same UTC day.

const CLOCK = `
local p = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local minute = math.floor(now / 60000)
local day = math.floor(now / 86400000)
`;

/**
 * Lets a request in, or names the limit it would break. ARGV: rpm, tpm, max_streams,
 * tokens_per_day (-1: none), member (`<instance>:<stream>`), leaseMs, seed, seedDay.
 * Returns {'ok', tokensLeft (-1: no daily bound)} · {'refused', limit, value, retryAfterS}
 * · {'seed', day}: today's counter is missing; call again with the usage record's figure
 * for that day as seed (SET NX: the first instance's figure stands).
 * rpm counts in INCR'd minute buckets (EXPIRE 120 s), tpm in minute buckets the request's
 * end adds to; max_streams is a sorted set of members scored by their lease's end,
 * cleaned by score here, renewed by their instance.
 */
export const ADMIT = `${CLOCK}
local rpm, tpm, maxs, tpd = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local member, lease = ARGV[5], tonumber(ARGV[6])
local toMinute = math.ceil(((minute + 1) * 60000 - now) / 1000)
local left = -1
if tpd >= 0 then
  local dk = p .. 'day:' .. day
  local used = redis.call('GET', dk)
  if not used then
    if ARGV[8] ~= tostring(day) then return {'seed', day} end
    redis.call('SET', dk, ARGV[7], 'NX', 'EX', 172800)
    used = redis.call('GET', dk)
  end
  used = tonumber(used)
  if used >= tpd then return {'refused', 'tokens_per_day', tpd, math.ceil(((day + 1) * 86400000 - now) / 1000)} end
  left = tpd - used
end
local rk = p .. 'rpm:' .. minute
if rpm >= 0 and tonumber(redis.call('GET', rk) or '0') >= rpm then return {'refused', 'rpm', rpm, toMinute} end
if tpm >= 0 and tonumber(redis.call('GET', p .. 'tpm:' .. minute) or '0') >= tpm then return {'refused', 'tpm', tpm, toMinute} end
if maxs >= 0 then
  local sk = p .. 'streams'
  redis.call('ZREMRANGEBYSCORE', sk, '-inf', now)
  if redis.call('ZCARD', sk) >= maxs then return {'refused', 'max_streams', maxs, 1} end
  redis.call('ZADD', sk, now + lease, member)
  redis.call('PEXPIRE', sk, lease * 2)
end
if rpm >= 0 then
  redis.call('INCR', rk)
  redis.call('EXPIRE', rk, 120)
end
return {'ok', left}
`;

/**
 * A request's end. ARGV: tokens, tpm ('1': counted), tokens_per_day ('1': counted), member
 * ('' when max_streams does not bound it). The day's counter is added to only when it
 * exists: a missing one is read from the usage record, which holds these tokens too.
 */
export const END = `${CLOCK}
if ARGV[4] ~= '' then redis.call('ZREM', p .. 'streams', ARGV[4]) end
local n = tonumber(ARGV[1])
if n > 0 then
  if ARGV[2] == '1' then
    local k = p .. 'tpm:' .. minute
    redis.call('INCRBY', k, n)
    redis.call('EXPIRE', k, 120)
  end
  if ARGV[3] == '1' then
    local k = p .. 'day:' .. day
    if redis.call('EXISTS', k) == 1 then redis.call('INCRBY', k, n) end
  end
end
return 1
`;

/** An instance's renewal of its live streams under one key. ARGV: leaseMs, then members. */
export const RENEW = `${CLOCK}
local lease = tonumber(ARGV[1])
local sk = p .. 'streams'
for i = 2, #ARGV do redis.call('ZADD', sk, 'XX', now + lease, ARGV[i]) end
redis.call('PEXPIRE', sk, lease * 2)
return 1
`;
