-- apply: takes one admin change the core computed from configuration version REQ.version, if
-- that version is still the account's and every guard holds; otherwise changes nothing and
-- answers why, and the node re-reads and recomputes. REQ:
--   config       the new configuration (absent: unchanged) and new_version its version: a fresh
--                random id, never a counter, so a Redis that lost changes and took new ones can
--                never give a lost configuration's version to another configuration
--   expiries     {product: subscription end (ms)}, kept as "x:<product>" for renew's time guard
--   products     product codes to add to "prods" (what monitoring walks)
--   guards       [{product, pool, max}]: the pool's live sessions must be at most max
--   machine      {product, id, quota}: register the machine unless it is, if fewer than quota are
--   moves        [{product, from [pools], to}]: every live session and floating activation of
--                those pools goes to pool 'to'
--   end_machine  {product, id, cause, unregister}: end the machine's live sessions with that
--                cause, then remove its registration if unregister; nothing when not registered
--   end_leases   [{product, user, cause}]: end the live floating activation of that user's seat
--                (the core removed the seat)
--   count        {product, pools, machines} (absent: none): if the version is out of date, what
--                observe.lua would count for these, so that the node decides again at once
--   levels       [{product, pool, before, after, grant '1'/'0'}]: changes of in_use the
--                configuration makes (seats), for the pools' usage history (history_lib.lua);
--                the sessions a revoke moves are counted here
-- Outcomes: ok {version, ended, unregistered}, stale {version, config, and with count: in_use,
-- machines, registered}, guard {which}.
local refused = not_at(REQ.version)
if refused then
  local c = REQ.count
  if c and refused.outcome == 'stale' then
    count_product(refused, c.product, c.pools, c.machines)
  end
  return refused
end
for i, g in ipairs(REQ.guards or {}) do
  if redis.call('SCARD', key('ps:' .. g.product .. ':' .. g.pool)) > tonumber(g.max) then
    return {outcome = 'guard', which = str(i)}
  end
end
local m = REQ.machine
local register = false
if m then
  local machines = key('mc:' .. m.product)
  if redis.call('HEXISTS', machines, m.id) == 0 then
    if redis.call('HLEN', machines) >= tonumber(m.quota) then
      return {outcome = 'guard', which = 'machine'}
    end
    register = true
  end
end
-- Checks done; from here on only writes.
if register then
  local seq = redis.call('HINCRBY', KEYS[1], 'ms', 1)
  redis.call('HSET', key('mc:' .. m.product), m.id, str(seq) .. '|' .. str(NOW))
end
for _, move in ipairs(REQ.moves or {}) do
  -- Sessions ("ps:") and floating activations ("pa:") alike; sessions count in in_use.
  for _, kind in ipairs({'ps:', 'pa:'}) do
    local target = key(kind .. move.product .. ':' .. move.to)
    local moved, target_before = 0, redis.call('SCARD', target)
    for _, pool in ipairs(move.from) do
      local set = key(kind .. move.product .. ':' .. pool)
      local members = redis.call('SMEMBERS', set)
      for _, sid in ipairs(members) do
        redis.call('HSET', key('s:' .. sid), 'o', move.to)
        redis.call('SADD', target, sid)
      end
      redis.call('DEL', set)
      if kind == 'ps:' and #members > 0 then
        moved = moved + #members
        hist_record(move.product, pool, #members, 0, false, nil)
      end
    end
    if moved > 0 then
      hist_record(move.product, move.to, target_before, target_before + moved, false, nil)
    end
  end
end
for _, l in ipairs(REQ.levels or {}) do
  hist_record(l.product, l.pool, tonumber(l.before), tonumber(l.after), l.grant == '1', nil)
end
local ended, unregistered = 0, '0'
local em = REQ.end_machine
if em and redis.call('HEXISTS', key('mc:' .. em.product), em.id) == 1 then
  for _, sid in ipairs(redis.call('SMEMBERS', key('mx:' .. em.product .. ':' .. em.id))) do
    if end_session(sid, em.cause) then
      ended = ended + 1
    end
  end
  if em.unregister then
    redis.call('HDEL', key('mc:' .. em.product), em.id)
    unregistered = '1'
  end
end
for _, l in ipairs(REQ.end_leases or {}) do
  local sid = redis.call('HGET', key('sa'), l.product .. '\n' .. l.user)
  if sid and end_session(sid, l.cause) then
    ended = ended + 1
  end
end
local version = redis.call('HGET', KEYS[1], 'cv')
if REQ.config then
  version = REQ.new_version
  redis.call('HSET', KEYS[1], 'cv', version, 'cfg', REQ.config)
end
for product, ends in pairs(REQ.expiries or {}) do
  redis.call('HSET', KEYS[1], 'x:' .. product, ends)
end
for _, product in ipairs(REQ.products or {}) do
  redis.call('SADD', key('prods'), product)
end
return {outcome = 'ok', version = version, ended = str(ended), unregistered = unregistered, changed = '1'}
