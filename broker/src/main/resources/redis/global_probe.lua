-- Start-up permission check (KEYS[1] a probe key under the broker's prefix): the same kinds of
-- commands the broker's scripts run (cjson included), on a key of its prefix, leaving nothing
-- behind. ARGV[1] (JSON): value, what to write.
local req = cjson.decode(ARGV[1])
redis.call('SET', KEYS[1], req.value)
redis.call('HSET', KEYS[1] .. ':h', 'f', req.value)
redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[1] .. ':h')
return cjson.encode({outcome = 'ok'})
