-- setDedicated: ARGV[10] org id, ARGV[11] product, ARGV[12] licenses. Increasing by k needs
-- k <= available(parent); decreasing to d > 0 needs d >= in use + allocated; 0 revokes the whole
-- subtree and moves its live sessions (same ids, same leases) to the organization's parent.
-- Answers the account's usage of the product, from the state this change left.
if not account_exists() then
  return no_account()
end
local id, product, licenses = ARGV[10], ARGV[11], tonumber(ARGV[12])
local o = org(id)
if not o then
  return denied('ORGANIZATION_NOT_FOUND', 'no organization ' .. id, 'org_id')
end
local parent = parent_pool(o)
local current = num(redis.call('HGET', key('pd:' .. product), id))
if licenses > current then
  local increase = licenses - current
  local room = available(product, parent)
  if increase > room then
    local where = 'the account pool'
    if parent ~= ACCT then
      where = 'organization ' .. parent
    end
    return denied('INSUFFICIENT_LICENSES', 'cannot add ' .. str(increase) .. ' licenses to ' .. id .. ': ' .. where
        .. ' has ' .. str(math.max(0, room)) .. ' available', 'licenses')
  end
elseif licenses > 0 and licenses < current then
  local used, alloc = in_use(product, id), allocated(product, id)
  if licenses < used + alloc then
    return denied('BELOW_IN_USE', 'cannot reduce ' .. id .. ' to ' .. str(licenses) .. ': ' .. str(used)
        .. ' in use and ' .. str(alloc) .. ' allocated to sub-organizations', 'licenses')
  end
end
prune_offline(product)
if licenses ~= current then
  redis.call('SADD', key('prods'), product)
  if licenses > 0 then
    redis.call('HSET', key('pd:' .. product), id, str(licenses))
    redis.call('HINCRBY', key('pa:' .. product), parent, licenses - current)
    touch(product, id)
    touch(product, parent)
  else
    -- Revoke: every pool of the subtree empties into the parent, sessions included.
    local subtree, todo = {}, {id}
    while #todo > 0 do
      local next_id = table.remove(todo)
      subtree[#subtree + 1] = next_id
      for _, child in ipairs(redis.call('LRANGE', key('ch:' .. next_id), 0, -1)) do
        todo[#todo + 1] = child
      end
    end
    local parent_set = key('ps:' .. product .. ':' .. parent)
    for _, pool in ipairs(subtree) do
      local set = key('ps:' .. product .. ':' .. pool)
      for _, sid in ipairs(redis.call('SMEMBERS', set)) do
        redis.call('HSET', key('s:' .. sid), 'o', parent)
        redis.call('SADD', parent_set, sid)
      end
      redis.call('DEL', set)
      redis.call('HDEL', key('pd:' .. product), pool)
      redis.call('HDEL', key('pa:' .. product), pool)
      redis.call('ZREM', key('room:' .. product), pool)
    end
    redis.call('HINCRBY', key('pa:' .. product), parent, -current)
    touch(product, parent)
  end
end
return usage_reply(product)
