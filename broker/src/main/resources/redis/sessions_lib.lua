-- Session upkeep shared by the scripts that start, end or look up sessions (Script.java adds it
-- after common.lua where needed). A session is the hash "s:<id>" and its entries in the indexes:
-- "lz" (by lease end), "sl" (by id), "ps:<product>:<pool>" (live sessions of a pool: its in_use),
-- "mx:<product>:<machine>" (of a machine) and "rq" (user + request id -> session, for idempotency).

-- id, product, user, machine, pool, fallback ('0'/'1'), request id, started (ms), lease end (ms)
local function session_reply(sid)
  local s = redis.call('HMGET', key('s:' .. sid), 'p', 'u', 'm', 'o', 'f', 'r', 'b', 'e')
  return {id = sid, product = s[1], user = s[2], machine = s[3], pool = s[4], fallback = s[5],
          request = s[6], started = s[7], lease = s[8]}
end

-- Ends a live session; cause nil for a release (no tombstone), else what a late renew is told.
local function end_session(sid, cause)
  local skey = key('s:' .. sid)
  local s = redis.call('HMGET', skey, 'p', 'u', 'm', 'o', 'r')
  if not s[1] then
    return false
  end
  redis.call('DEL', skey)
  redis.call('ZREM', key('lz'), sid)
  redis.call('ZREM', key('sl'), sid)
  redis.call('SREM', key('ps:' .. s[1] .. ':' .. s[4]), sid)
  redis.call('SREM', key('mx:' .. s[1] .. ':' .. s[3]), sid)
  if s[5] ~= '' then
    local rk = s[2] .. '\n' .. s[5]
    if redis.call('HGET', key('rq'), rk) == sid then
      redis.call('HDEL', key('rq'), rk)
    end
  end
  if cause then
    redis.call('SET', key('t:' .. sid), cause .. '|' .. str(NOW), 'PX', TOMBSTONE_MS)
  end
  return true
end

-- Ends up to max sessions whose lease ran out by NOW, earliest lease first.
local function expire_due(max)
  if max <= 0 then
    return 0
  end
  local due = redis.call('ZRANGEBYSCORE', key('lz'), '-inf', str(NOW), 'LIMIT', 0, max)
  for _, sid in ipairs(due) do
    end_session(sid, 'SESSION_EXPIRED')
  end
  return #due
end

-- A session id that is not live: its tombstone (cause and when) while retained, else unknown.
local function gone(sid)
  local t = redis.call('GET', key('t:' .. sid))
  if t then
    local bar = string.find(t, '|', 1, true)
    local at = tonumber(string.sub(t, bar + 1))
    if at + TOMBSTONE_MS > NOW then
      return {outcome = 'ended', cause = string.sub(t, 1, bar - 1), at = str(at)}
    end
  end
  return {outcome = 'unknown'}
end
