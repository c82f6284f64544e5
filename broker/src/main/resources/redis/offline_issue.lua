-- issueOfflineLicense: ARGV[10] product, ARGV[11] machine, ARGV[12] expires at (ms), ARGV[13] longest
-- allowed length (ms), ARGV[14] that length in days (for the message). The request's bounds are
-- checked against the caller's clock, which computed them; liveness uses the script's time.
if not account_exists() then
  return no_account()
end
local product, machine, expires = ARGV[10], ARGV[11], tonumber(ARGV[12])
local sub = redis.call('HMGET', key('sub:' .. product), 'l', 'q', 'x')
if not sub[1] then
  return denied('NO_SUBSCRIPTION', 'account ' .. ACCT .. ' has no ' .. product .. ' subscription')
end
local sub_end = tonumber(sub[3])
if NOW >= sub_end then
  return denied('SUBSCRIPTION_EXPIRED', 'the ' .. product .. ' subscription expired at ' .. instant(sub[3]))
end
if expires <= CALLER_NOW then
  return denied('INVALID_ARGUMENT', 'expires_at must be in the future: ' .. instant(ARGV[12]), 'expires_at')
end
if expires > CALLER_NOW + tonumber(ARGV[13]) then
  return denied('INVALID_ARGUMENT', 'expires_at is more than ' .. ARGV[14] .. ' days ahead: ' .. instant(ARGV[12]),
      'expires_at')
end
if expires > sub_end then
  return denied('INVALID_ARGUMENT', 'expires_at ' .. instant(ARGV[12]) .. " is past the subscription's expiry " .. instant(sub[3]),
      'expires_at')
end
if offline_live_for(product, machine) then
  return denied('ALREADY_EXISTS', 'machine ' .. machine .. ' already holds a live offline license', 'machine_id')
end
local machines = key('mc:' .. product)
local new_machine = redis.call('HEXISTS', machines, machine) == 0
if new_machine and redis.call('HLEN', machines) >= tonumber(sub[2]) then
  return denied('MACHINE_QUOTA_EXCEEDED', 'machine quota of ' .. sub[2] .. ' is reached')
end
if available(product, ACCT) < 1 then
  return denied('INSUFFICIENT_LICENSES', 'the account pool has no available license')
end
prune_offline(product)
if new_machine then
  register_machine(product, machine)
end
redis.call('HSET', key('off:' .. product), machine, str(CALLER_NOW))
redis.call('ZADD', key('offx:' .. product), expires, machine)
return {'OK', CALLER_NOW}
