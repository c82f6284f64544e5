-- Global (KEYS[1] credentials by lookup id, KEYS[2] the "a SUPER_ADMIN exists" flag, KEYS[3] the
-- credentials epoch): stores a credential. ARGV[1] (JSON): id (lookup id), encoded, super_admin
-- (boolean), epoch (the new one). All in one step, so the flag never announces a credential that
-- is not stored, and a Redis that loses this write loses the new epoch with it: no node keeps
-- using a cached credential Redis no longer has (nodes cache under the epoch they read).
local req = cjson.decode(ARGV[1])
redis.call('HSET', KEYS[1], req.id, req.encoded)
if req.super_admin then
  redis.call('SET', KEYS[2], '1')
end
redis.call('SET', KEYS[3], req.epoch)
return cjson.encode({outcome = 'ok'})
