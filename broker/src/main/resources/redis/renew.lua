-- renew: ARGV[10] session id, ARGV[11] user id ('' skips the ownership check), ARGV[12] new lease
-- end (ms, caller time), ARGV[13] lease length (ms, used with server time). A lease that already
-- ran out ends now as expired. The lease never moves back. {'READMIT'} for an unknown session
-- during a learning period.
if not account_exists() then
  return no_account()
end
local sid, user = ARGV[10], ARGV[11]
local s = redis.call('HMGET', key('s:' .. sid), 'p', 'u', 'e')
if not s[1] then
  if learning() and redis.call('EXISTS', key('t:' .. sid)) == 0 then
    -- Perhaps one of the sessions Redis forgot: the node checks its ticket and re-admits it.
    return {'READMIT'}
  end
  return gone(sid)
end
if user ~= '' and s[2] ~= user then
  return denied('PERMISSION_DENIED', 'session ' .. sid .. ' belongs to another user', 'session_id')
end
local lease = tonumber(s[3])
if NOW >= lease then
  end_session(sid, 'SESSION_EXPIRED')
  return denied('SESSION_EXPIRED', 'the lease of session ' .. sid .. ' ran out at ' .. instant(s[3]), 'session_id')
end
local expires = redis.call('HGET', key('sub:' .. s[1]), 'x')
if NOW >= tonumber(expires) then
  return denied('SUBSCRIPTION_EXPIRED', 'the ' .. s[1] .. ' subscription expired at ' .. instant(expires))
end
local renewed = tonumber(ARGV[12])
if SERVER_TIME then
  renewed = NOW + tonumber(ARGV[13])
end
if renewed > lease then
  -- Later leases need no reap index change: the index holds a lower bound of the earliest lease.
  redis.call('HSET', key('s:' .. sid), 'e', str(renewed))
  redis.call('ZADD', key('lz'), renewed, sid)
end
local reply = {'OK'}
for _, v in ipairs(session_reply(sid)) do
  reply[#reply + 1] = v
end
return reply
