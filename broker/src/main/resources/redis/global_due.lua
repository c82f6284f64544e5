-- Global (KEYS[1] the reap index: account -> lower bound of its earliest lease end): up to
-- ARGV[1].max accounts with a lease that may have run out by now; ARGV[1].time 'S' this server's
-- TIME or 'C' the caller's clock, ARGV[1].now the caller's now (ms). Read-only. Outcome ok {due}.
local req = cjson.decode(ARGV[1])
local now = tonumber(req.now)
if req.time == 'S' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now), 'LIMIT', 0, tonumber(req.max))
return cjson.encode({outcome = 'ok', due = due})
