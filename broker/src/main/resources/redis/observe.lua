-- observe: what a node needs to decide with the core, from one consistent state. REQ version
-- (the configuration version the node holds, '' none), product ('' none), pools (pool ids whose
-- live sessions to count), machines (machine ids to look up). Outcome ok {version, config (only
-- when REQ.version is out of date), in_use {pool: count}, machines (registered), registered
-- [ids among REQ.machines], machine_list (with REQ.list_machines: [{id, seq, at, live}])}.
-- Nothing here writes.
if not account_exists() then
  return NO_ACCOUNT
end
local a = redis.call('HMGET', KEYS[1], 'cv', 'n')
local reply = {outcome = 'ok', version = a[1], name = a[2]}
if a[1] ~= REQ.version then
  reply.config = redis.call('HGET', KEYS[1], 'cfg')
end
if REQ.product ~= '' then
  local p = REQ.product
  count_product(reply, p, REQ.pools, REQ.machines)
  if REQ.list_machines then
    local list = {}
    local all = redis.call('HGETALL', key('mc:' .. p))
    for i = 1, #all, 2 do
      local v = all[i + 1]
      local bar = string.find(v, '|', 1, true)
      list[#list + 1] = {id = all[i], seq = string.sub(v, 1, bar - 1), at = string.sub(v, bar + 1),
                         live = str(redis.call('SCARD', key('mx:' .. p .. ':' .. all[i])))}
    end
    reply.machine_list = list
  end
end
return reply
