-- deactivateMachine: ARGV[10] product, ARGV[11] machine. Ends the machine's live sessions as
-- terminated and unregisters it, unless a live offline license binds it (that license cannot be
-- revoked). {'OK', 1} when the registration was removed or a session ended.
if not account_exists() then
  return no_account()
end
local product, machine = ARGV[10], ARGV[11]
if redis.call('HEXISTS', key('mc:' .. product), machine) == 0 then
  return {'OK', 0}
end
local ending = redis.call('SMEMBERS', key('mx:' .. product .. ':' .. machine))
for _, sid in ipairs(ending) do
  end_session(sid, 'SESSION_TERMINATED')
end
if offline_live_for(product, machine) then
  if #ending > 0 then
    return {'OK', 1}
  end
  return {'OK', 0}
end
prune_offline(product)
redis.call('HDEL', key('mc:' .. product), machine)
return {'OK', 1}
