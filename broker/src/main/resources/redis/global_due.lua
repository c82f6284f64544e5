-- Global (KEYS[1] the reap index: account -> lower bound of its earliest lease end): up to
-- ARGV[3] accounts with a lease that may have run out by now. ARGV[1] time source ('S' this
-- server's TIME, 'C' the caller's), ARGV[2] the caller's now (ms). Read-only.
local now = tonumber(ARGV[2])
if ARGV[1] == 'S' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now), 'LIMIT', 0, tonumber(ARGV[3]))
