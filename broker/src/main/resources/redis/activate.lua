-- activate: starts floating activation REQ.sid, a lease of the session kind on the seat of
-- REQ.user. The core decided from configuration version REQ.version (subscription, model, user,
-- the seat and its pool: AccountLedger.seatToActivate); this script keeps one live lease per seat
-- and counts machines, in the core's order (SeatRules.activate). REQ: version, sid, product,
-- user, machine, request (the lease key, AccountLedger.leaseKey), pool (the seat's), lease (ms,
-- caller time), lease_ms (its length, used with server time), expires (the subscription's end,
-- ms; absent when the core refused before looking at it), refused (the core refused), quota
-- (machines), take_over (end a live lease on another machine).
-- Outcomes: ok {session, reindex}, existing {session} (the user's live lease on this machine),
-- stale, ended / unknown (a re-send whose lease ended meanwhile), expired, refused, recovering
-- {until}, seat_in_use {machine}, machine_quota.
local refused = not_at(REQ.version)
if refused then
  return refused
end
local sid = REQ.sid
local again = resent(sid)
if again then
  return again
end
local lease = lease_end()
if REQ.expires and NOW >= tonumber(REQ.expires) then
  return {outcome = 'expired'}
end
if REQ.refused then
  return {outcome = 'refused'}
end
local product, user, machine, request = REQ.product, REQ.user, REQ.machine, REQ.request
local seat = product .. '\n' .. user
local holder = redis.call('HGET', key('sa'), seat)
local held_on = nil
if holder then
  local h = redis.call('HMGET', key('s:' .. holder), 'm', 'e')
  if not h[2] then
    holder = nil
  elseif NOW >= tonumber(h[2]) then
    -- A lease that ran out frees the seat now, not at the reaper's next pass (as the core does).
    end_session(holder, 'SESSION_EXPIRED')
    holder = nil
  elseif h[1] == machine then
    return {outcome = 'existing', session = session_reply(holder)}
  else
    held_on = h[1]
  end
end
-- In a learning period a lease Redis forgot may still be in use on its machine (common.lua): no
-- machine comes in, not even by taking over, until the period ends.
if learning() then
  return {outcome = 'recovering', ['until'] = str(LEARN_UNTIL)}
end
if holder and not REQ.take_over then
  return {outcome = 'seat_in_use', machine = held_on}
end
local machines = key('mc:' .. product)
local new_machine = redis.call('HEXISTS', machines, machine) == 0
if new_machine and redis.call('HLEN', machines) >= tonumber(REQ.quota) then
  return {outcome = 'machine_quota'}
end
-- Checks done; from here on only writes.
if holder then
  end_session(holder, 'SESSION_TERMINATED')
end
if new_machine then
  local seq = redis.call('HINCRBY', KEYS[1], 'ms', 1)
  redis.call('HSET', machines, machine, str(seq) .. '|' .. str(NOW))
end
count_acquire()
redis.call('HSET', key('s:' .. sid), 'p', product, 'u', user, 'm', machine, 'o', REQ.pool, 'f', '0',
    'r', request, 'b', str(NOW), 'e', str(lease), 'k', 'a')
redis.call('ZADD', key('lz'), lease, sid)
redis.call('ZADD', key('sl'), 0, sid)
redis.call('SADD', key('pa:' .. product .. ':' .. REQ.pool), sid)
redis.call('SADD', key('mx:' .. product .. ':' .. machine), sid)
redis.call('HSET', key('rq'), user .. '\n' .. request, sid)
redis.call('HSET', key('sa'), seat, sid)
return {outcome = 'ok', session = session_reply(sid), reindex = reindex_for(lease)}
