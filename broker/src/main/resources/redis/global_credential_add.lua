-- Global (KEYS[1] credentials by lookup id, KEYS[2] the "a SUPER_ADMIN exists" flag): stores a
-- credential; ARGV[1] lookup id, ARGV[2] its encoding, ARGV[3] '1' for a SUPER_ADMIN. Both in one
-- step, so the flag never announces a credential that is not stored.
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '1' then
  redis.call('SET', KEYS[2], '1')
end
return 'OK'
