-- activations: the live floating activations of REQ.product, from the state of configuration
-- version REQ.version (the node adds the node-locked bindings of that version, then orders and
-- pages them). REQ: version, product, pools (that version's pool ids), user ('' any: a user
-- holds one seat, so one lease at most). Outcomes: ok {activations [{id, user, machine, pool,
-- started, lease}]}, stale {version, config}. Nothing here writes.
local refused = not_at(REQ.version)
if refused then
  return refused
end
local ids = {}
if REQ.user ~= '' then
  local sid = redis.call('HGET', key('sa'), REQ.product .. '\n' .. REQ.user)
  if sid then
    ids[1] = sid
  end
else
  for _, pool in ipairs(REQ.pools) do
    for _, sid in ipairs(redis.call('SMEMBERS', key('pa:' .. REQ.product .. ':' .. pool))) do
      ids[#ids + 1] = sid
    end
  end
end
local out = {}
for _, sid in ipairs(ids) do
  local s = redis.call('HMGET', key('s:' .. sid), 'u', 'm', 'o', 'b', 'e')
  -- A lease that ran out is not an activation any more, reaped or not.
  if s[5] and NOW < tonumber(s[5]) then
    out[#out + 1] = {id = sid, user = s[1], machine = s[2], pool = s[3], started = s[4], lease = s[5]}
  end
end
return {outcome = 'ok', activations = out}
