-- setPolicy: ARGV[5] policy name, ARGV[6] allow fallback ('1'/'0'). Bumps the configuration version.
if not account_exists() then
  return no_account()
end
redis.call('HSET', KEYS[1], 'pol', ARGV[5], 'fb', ARGV[6])
redis.call('HINCRBY', KEYS[1], 'cv', 1)
return {'OK'}
