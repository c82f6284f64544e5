-- setPolicy: ARGV[10] policy name, ARGV[11] allow fallback ('1'/'0'). Bumps the configuration version.
if not account_exists() then
  return no_account()
end
redis.call('HSET', KEYS[1], 'pol', ARGV[10], 'fb', ARGV[11])
redis.call('HINCRBY', KEYS[1], 'cv', 1)
return {'OK'}
