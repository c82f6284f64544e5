-- Start-up permission check (KEYS[1] a probe key under the broker's prefix): the same kinds of
-- commands the broker's scripts run, on a key of its prefix, leaving nothing behind.
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1] .. ':h', 'f', ARGV[1])
redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[1] .. ':h')
return 'OK'
