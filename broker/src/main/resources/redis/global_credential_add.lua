-- Global (KEYS[1] credentials by lookup id, KEYS[2] the "a SUPER_ADMIN exists" flag, KEYS[3] the
-- credentials epoch): stores a credential; ARGV[1] lookup id, ARGV[2] its encoding, ARGV[3] '1' for
-- a SUPER_ADMIN, ARGV[4] the new epoch. All in one step, so the flag never announces a credential
-- that is not stored, and a Redis that loses this write loses the new epoch with it: no node keeps
-- using a cached credential Redis no longer has (nodes cache under the epoch they read).
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '1' then
  redis.call('SET', KEYS[2], '1')
end
redis.call('SET', KEYS[3], ARGV[4])
return 'OK'
