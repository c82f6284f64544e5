-- setSubscription: ARGV[10] product, ARGV[11] licenses, ARGV[12] machine quota, ARGV[13] expires at (ms).
-- Lowering licenses below allocated + in use + live offline licenses of the account pool is refused.
if not account_exists() then
  return no_account()
end
local product = ARGV[10]
local licenses = tonumber(ARGV[11])
local subkey = key('sub:' .. product)
if redis.call('HEXISTS', subkey, 'l') == 1 then
  local floor = allocated(product, ACCT) + in_use(product, ACCT) + offline_live(product)
  if licenses < floor then
    return denied('BELOW_IN_USE', 'licenses ' .. str(licenses) .. ' is below what is allocated, in use and offline ('
        .. str(floor) .. ')', 'licenses')
  end
end
prune_offline(product)
redis.call('HSET', subkey, 'l', ARGV[11], 'q', ARGV[12], 'x', ARGV[13])
redis.call('SADD', key('prods'), product)
return {'OK'}
