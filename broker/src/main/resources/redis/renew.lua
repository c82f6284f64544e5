-- renew: REQ sid, user ('' skips the ownership guard), lease (ms, caller time), lease_ms (its
-- length, used with server time). A lease that already ran out ends now as expired; the lease
-- never moves back. Outcomes: ok {session}, ended {cause, at} / unknown (not live), readmit (not
-- live during a learning period: the node checks the session's ticket), not_owner, ran_out
-- {lease}, expired {at} (the subscription's end, kept by apply.lua as "x:<product>").
if not account_exists() then
  return NO_ACCOUNT
end
local sid = REQ.sid
local s = redis.call('HMGET', key('s:' .. sid), 'p', 'u', 'e')
if not s[1] then
  if learning() and redis.call('EXISTS', key('t:' .. sid)) == 0 then
    return {outcome = 'readmit'}
  end
  return gone(sid)
end
if REQ.user ~= '' and s[2] ~= REQ.user then
  return {outcome = 'not_owner'}
end
local lease = tonumber(s[3])
if NOW >= lease then
  end_session(sid, 'SESSION_EXPIRED')
  return {outcome = 'ran_out', lease = s[3]}
end
local expires = redis.call('HGET', KEYS[1], 'x:' .. s[1])
if expires and NOW >= tonumber(expires) then
  return {outcome = 'expired', at = expires, product = s[1]}
end
local renewed = tonumber(REQ.lease)
if SERVER_TIME then
  renewed = NOW + tonumber(REQ.lease_ms)
end
if renewed > lease then
  -- Later leases need no reap index change: the index holds a lower bound of the earliest lease.
  redis.call('HSET', key('s:' .. sid), 'e', str(renewed))
  redis.call('ZADD', key('lz'), renewed, sid)
end
return {outcome = 'ok', session = session_reply(sid)}
