-- Reads of one account, each from one consistent state; ARGV[10] names what, ARGV[11] its argument.
-- Nothing here writes.
if not account_exists() then
  return no_account()
end
local what, arg = ARGV[10], ARGV[11]
if what == 'account' then
  return {'OK', redis.call('HGET', KEYS[1], 'n')}
elseif what == 'subscription' then
  local sub = redis.call('HMGET', key('sub:' .. arg), 'l', 'q', 'x')
  if not sub[1] then
    return {'OK'}
  end
  return {'OK', sub[1], sub[2], sub[3]}
elseif what == 'organizations' then
  local out = {'OK'}
  for _, id in ipairs(redis.call('LRANGE', key('ol'), 0, -1)) do
    local o = org(id)
    out[#out + 1] = id
    out[#out + 1] = o.parent
    out[#out + 1] = o.name
  end
  return out
elseif what == 'organization' then
  return {'OK', redis.call('HEXISTS', key('o'), arg)}
elseif what == 'user' then
  local record = redis.call('HGET', key('u'), arg)
  if not record then
    return denied('USER_NOT_FOUND', 'no user ' .. arg .. ' in account ' .. ACCT, 'user_id')
  end
  return {'OK', record}
elseif what == 'users' then
  local out = {'OK'}
  for _, v in ipairs(redis.call('HGETALL', key('u'))) do
    out[#out + 1] = v
  end
  return out
elseif what == 'policy' then
  local a = redis.call('HMGET', KEYS[1], 'pol', 'fb')
  return {'OK', a[1], a[2]}
elseif what == 'usage' then
  return usage_reply(arg)
elseif what == 'machines' then
  -- machine, "seq|registeredAt", live sessions, live offline license end ('' none)
  local out = {'OK'}
  local all = redis.call('HGETALL', key('mc:' .. arg))
  for i = 1, #all, 2 do
    local m = all[i]
    local offline = ''
    if offline_live_for(arg, m) then
      offline = redis.call('ZSCORE', key('offx:' .. arg), m)
    end
    out[#out + 1] = m
    out[#out + 1] = all[i + 1]
    out[#out + 1] = redis.call('SCARD', key('mx:' .. arg .. ':' .. m))
    out[#out + 1] = offline
  end
  return out
end
return redis.error_reply('unknown read ' .. tostring(what))
