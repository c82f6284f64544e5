-- Session upkeep shared by the scripts that start, end or look up sessions (Script.java adds it
-- after common.lua and history_lib.lua where needed: a session that ends is counted in its pool's history). A session is the hash "s:<id>" and its entries in the indexes:
-- "lz" (by lease end), "sl" (by id), "ps:<product>:<pool>" (live sessions of a pool: its in_use),
-- "mx:<product>:<machine>" (of a machine) and "rq" (user + request id -> session, for idempotency).
-- A floating activation (field k = 'a') is a session on a seat: it counts in no pool (its seat
-- does, in the configuration), so it is in "pa:<product>:<pool>" instead of "ps:", and the hash
-- "sa" maps its seat (product + user) to it: one live lease per seat.

-- id, product, user, machine, pool, fallback ('0'/'1'), request id, started (ms), lease end (ms)
local function session_reply(sid)
  local s = redis.call('HMGET', key('s:' .. sid), 'p', 'u', 'm', 'o', 'f', 'r', 'b', 'e')
  return {id = sid, product = s[1], user = s[2], machine = s[3], pool = s[4], fallback = s[5],
          request = s[6], started = s[7], lease = s[8]}
end

-- Ends a live session; cause nil for a release (no tombstone), else what a late renew is told.
local function end_session(sid, cause)
  local skey = key('s:' .. sid)
  local s = redis.call('HMGET', skey, 'p', 'u', 'm', 'o', 'r', 'k')
  if not s[1] then
    return false
  end
  redis.call('DEL', skey)
  redis.call('ZREM', key('lz'), sid)
  redis.call('ZREM', key('sl'), sid)
  if s[6] == 'a' then
    redis.call('SREM', key('pa:' .. s[1] .. ':' .. s[4]), sid)
    local seat = s[1] .. '\n' .. s[2]
    if redis.call('HGET', key('sa'), seat) == sid then
      redis.call('HDEL', key('sa'), seat)
    end
  else
    local ps = key('ps:' .. s[1] .. ':' .. s[4])
    if redis.call('SREM', ps, sid) == 1 then
      hist_session(s[1], s[4], redis.call('SCARD', ps), -1, false)
    end
  end
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

-- Exactly once: the Redis client re-sends a command that was in flight when its connection
-- dropped. A starting session's id was chosen by the caller for this one call, so finding it
-- means this is that re-send: the answer is what the first run did (nil: a first run).
local function resent(sid)
  local first = redis.call('HGET', key('s:' .. sid), 'e')
  if first then
    if NOW < tonumber(first) then
      return {outcome = 'ok', session = session_reply(sid), reindex = '0'}
    end
    return gone(sid)
  end
  if redis.call('EXISTS', key('t:' .. sid)) == 1 then
    return gone(sid)
  end
  return nil
end

-- A new session's lease end: the caller's, or this server's now plus its length.
local function lease_end()
  if SERVER_TIME then
    return NOW + tonumber(REQ.lease_ms)
  end
  return tonumber(REQ.lease)
end

-- "ri" is the lowest lease end the node was last asked to put into the global reap index; a
-- lease that ends earlier must go there too (the node does that after the script): '1' then.
local function reindex_for(lease)
  local indexed = redis.call('HGET', KEYS[1], 'ri')
  if not indexed or lease < tonumber(indexed) then
    redis.call('HSET', KEYS[1], 'ri', str(lease))
    return '1'
  end
  return '0'
end
