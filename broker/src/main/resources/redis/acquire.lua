-- acquire: ARGV[10] the configuration version the plan was computed from, ARGV[11] product,
-- ARGV[12] user, ARGV[13] machine, ARGV[14] request id ('' none), ARGV[15] new session id,
-- ARGV[16] lease end (ms, caller time), ARGV[17] lease length (ms, used with server time),
-- ARGV[18] the plan's exhausted reason, ARGV[19] '1' to re-admit a session Redis forgot (see
-- renew.lua), ARGV[20..] the plan's steps in order: 'P' .. fallback flag .. pool id for one pool,
-- 'A' for the first organization with room.
--
-- The same steps, in the same order, as AccountLedger.acquire. A plan computed from another
-- configuration version is refused as STALE, with the current version, policy and user record,
-- before anything changes: the node recomputes the plan and tries again, so no stale plan is
-- ever walked. Answers 'OK', the session, and 1 when the account's reap index entry must be
-- lowered to this lease.
if not account_exists() then
  return no_account()
end
local cv = redis.call('HGET', KEYS[1], 'cv') or '0'
local product, user, machine, request = ARGV[11], ARGV[12], ARGV[13], ARGV[14]
if cv ~= ARGV[10] then
  local a = redis.call('HMGET', KEYS[1], 'pol', 'fb')
  return {'STALE', cv, a[1], a[2], redis.call('HGET', key('u'), user) or ''}
end
-- Exactly once: the Redis client re-sends a command that was in flight when its connection
-- dropped, and the first run may already have happened. The session id was chosen by the caller
-- for this one call, so finding it means this is that re-send: answer what the first run did
-- instead of granting a second license.
local sid = ARGV[15]
local first = redis.call('HMGET', key('s:' .. sid), 'e')
if first[1] then
  if NOW < tonumber(first[1]) then
    local reply = {'OK', 0}
    for _, v in ipairs(session_reply(sid)) do
      reply[#reply + 1] = v
    end
    return reply
  end
  return gone(sid)
end
if redis.call('EXISTS', key('t:' .. sid)) == 1 then
  return gone(sid)
end
local lease = tonumber(ARGV[16])
if SERVER_TIME then
  lease = NOW + tonumber(ARGV[17])
end
-- A lease that ran out frees its license now, not at the reaper's next pass.
expire_due(16)
local sub = redis.call('HMGET', key('sub:' .. product), 'l', 'q', 'x')
if not sub[1] then
  return denied('NO_SUBSCRIPTION', 'account ' .. ACCT .. ' has no ' .. product .. ' subscription')
end
if NOW >= tonumber(sub[3]) then
  return denied('SUBSCRIPTION_EXPIRED', 'the ' .. product .. ' subscription expired at ' .. instant(sub[3]))
end
if redis.call('HEXISTS', key('u'), user) == 0 then
  return denied('USER_NOT_FOUND', 'no user ' .. user .. ' in account ' .. ACCT)
end
if request ~= '' then
  local existing = redis.call('HGET', key('rq'), user .. '\n' .. request)
  if existing then
    local s = redis.call('HMGET', key('s:' .. existing), 'p', 'm', 'e')
    if s[1] then
      if NOW < tonumber(s[3]) then
        if s[1] ~= product or s[2] ~= machine then
          return denied('ALREADY_EXISTS', 'request_id ' .. request
              .. ' already names a session for another product or machine', 'request_id')
        end
        local reply = {'OK', 0}
        for _, v in ipairs(session_reply(existing)) do
          reply[#reply + 1] = v
        end
        return reply
      end
      end_session(existing, 'SESSION_EXPIRED')
    end
  end
end
-- In a learning period the free licenses belong to the sessions Redis forgot (common.lua): only
-- those come in, re-admitted when their agents renew; a re-admission needs one.
if ARGV[19] == '1' then
  if not learning() then
    return denied('SESSION_NOT_FOUND', 'no live session ' .. sid, 'session_id')
  end
elseif learning() then
  return denied('STORE_RECOVERING', 'Redis lost recent changes; until ' .. instant(LEARN_UNTIL)
      .. ' free licenses are kept for the sessions granted before the loss')
end
local machines = key('mc:' .. product)
local new_machine = redis.call('HEXISTS', machines, machine) == 0
if new_machine and redis.call('HLEN', machines) >= tonumber(sub[2]) then
  return denied('MACHINE_QUOTA_EXCEEDED', 'machine quota of ' .. sub[2] .. ' is reached; deactivate a machine first')
end
local chosen, fallback = nil, '0'
for i = 20, #ARGV do
  local step = ARGV[i]
  if string.sub(step, 1, 1) == 'P' then
    local pool = string.sub(step, 3)
    if available(product, pool) > 0 then
      chosen = pool
      fallback = string.sub(step, 2, 2)
      break
    end
  else
    local first = redis.call('ZRANGE', key('room:' .. product), 0, 0)
    if first[1] then
      chosen = first[1]
      break
    end
  end
end
if not chosen then
  if ARGV[18] == 'ORGANIZATION_POOL_EXHAUSTED' then
    return denied(ARGV[18], 'the organization pools of user ' .. user
        .. ' are exhausted and fallback to the account pool is off')
  end
  return denied(ARGV[18], 'no license available for user ' .. user)
end
if new_machine then
  register_machine(product, machine)
end
count_acquire()
redis.call('HSET', key('s:' .. sid), 'p', product, 'u', user, 'm', machine, 'o', chosen, 'f', fallback,
    'r', request, 'b', str(NOW), 'e', str(lease))
redis.call('ZADD', key('lz'), lease, sid)
redis.call('ZADD', key('sl'), 0, sid)
redis.call('SADD', key('ps:' .. product .. ':' .. chosen), sid)
redis.call('SADD', key('mx:' .. product .. ':' .. machine), sid)
if request ~= '' then
  redis.call('HSET', key('rq'), user .. '\n' .. request, sid)
end
touch(product, chosen)
-- "ri" is the lowest lease end the node was last asked to put into the global reap index; a
-- lease that ends earlier must go there too (the node does that after this script).
local indexed = redis.call('HGET', KEYS[1], 'ri')
local reindex = 0
if not indexed or lease < tonumber(indexed) then
  redis.call('HSET', KEYS[1], 'ri', str(lease))
  reindex = 1
end
local reply = {'OK', reindex}
for _, v in ipairs(session_reply(sid)) do
  reply[#reply + 1] = v
end
return reply
