-- acquire: starts session REQ.sid in the first candidate pool with room. The core chose the
-- candidates from the configuration version REQ.version (AcquireCandidates.java); this script
-- only counts. REQ: version, sid, product, user, machine, request ('' none), lease (ms, caller
-- time) and lease_ms (its length, used with server time), expires (the subscription's end, ms;
-- absent without one), refused (the core refuses whatever is counted), quota (machines),
-- candidates [{pool, size, fallback '0'/'1', offline '1' when live offline licenses come off}],
-- offline_ends [ms], readmit (take back a session Redis forgot, see renew.lua).
-- Outcomes: ok {session, reindex}, existing {session} (the request id names a live session; the
-- core judges it), stale, resent-ended, expired, refused, recovering {until}, unknown (a
-- re-admission outside a learning period), machine_quota, exhausted.
local refused = not_at(REQ.version)
if refused then
  return refused
end
-- A re-send answers what the first run did instead of granting a second license.
local sid = REQ.sid
local again = resent(sid)
if again then
  return again
end
local lease = lease_end()
-- A lease that ran out frees its license now, not at the reaper's next pass.
expire_due(16)
if REQ.expires and NOW >= tonumber(REQ.expires) then
  return {outcome = 'expired'}
end
if REQ.refused then
  return {outcome = 'refused'}
end
local product, user, machine, request = REQ.product, REQ.user, REQ.machine, REQ.request
if request ~= '' then
  local existing = redis.call('HGET', key('rq'), user .. '\n' .. request)
  if existing then
    local e = redis.call('HGET', key('s:' .. existing), 'e')
    if e and NOW < tonumber(e) then
      return {outcome = 'existing', session = session_reply(existing)}
    elseif e then
      end_session(existing, 'SESSION_EXPIRED')
    end
  end
end
-- In a learning period the free licenses belong to the sessions Redis forgot (common.lua): only
-- those come in, re-admitted when their agents renew; a re-admission needs one.
if REQ.readmit then
  if not learning() then
    return {outcome = 'unknown'}
  end
elseif learning() then
  return {outcome = 'recovering', ['until'] = str(LEARN_UNTIL)}
end
local machines = key('mc:' .. product)
local new_machine = redis.call('HEXISTS', machines, machine) == 0
if new_machine and redis.call('HLEN', machines) >= tonumber(REQ.quota) then
  return {outcome = 'machine_quota'}
end
local live_offline = 0
for _, ends in ipairs(REQ.offline_ends) do
  if tonumber(ends) > NOW then
    live_offline = live_offline + 1
  end
end
local chosen, fallback, level = nil, '0', 0
for _, c in ipairs(REQ.candidates) do
  local size = tonumber(c.size)
  if c.offline == '1' then
    size = size - live_offline
  end
  level = redis.call('SCARD', key('ps:' .. product .. ':' .. c.pool))
  if level < size then
    chosen, fallback = c.pool, c.fallback
    break
  end
end
if not chosen then
  return {outcome = 'exhausted'}
end
if new_machine then
  local seq = redis.call('HINCRBY', KEYS[1], 'ms', 1)
  redis.call('HSET', machines, machine, str(seq) .. '|' .. str(NOW))
end
count_acquire()
redis.call('HSET', key('s:' .. sid), 'p', product, 'u', user, 'm', machine, 'o', chosen, 'f', fallback,
    'r', request, 'b', str(NOW), 'e', str(lease))
redis.call('ZADD', key('lz'), lease, sid)
redis.call('ZADD', key('sl'), 0, sid)
redis.call('SADD', key('ps:' .. product .. ':' .. chosen), sid)
-- A re-admitted session was granted before Redis lost it: it counts in in_use, not as a grant.
hist_session(product, chosen, level + 1, 1, not REQ.readmit)
redis.call('SADD', key('mx:' .. product .. ':' .. machine), sid)
if request ~= '' then
  redis.call('HSET', key('rq'), user .. '\n' .. request, sid)
end
return {outcome = 'ok', session = session_reply(sid), reindex = reindex_for(lease)}
