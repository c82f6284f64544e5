-- reap: REQ max, the most sessions to end. Ends sessions whose lease ran out by NOW, earliest
-- first (idempotent: what is ended is gone), forgets nodes idle for a week, then records the
-- account's earliest remaining lease end as what the node is about to put into the global reap
-- index ("ri"). Outcome ok {ended, earliest ('-1' none)}. With max 0 it only re-reads the
-- earliest lease (a re-index).
if not account_exists() then
  return {outcome = 'ok', ended = '0', earliest = '-1'}
end
local ended = expire_due(tonumber(REQ.max))
local idle = redis.call('ZRANGEBYSCORE', key('wt'), '-inf', str(NOW - NODE_IDLE_MS), 'LIMIT', 0, 16)
for _, n in ipairs(idle) do
  redis.call('HDEL', KEYS[1], 'w:' .. n)
  redis.call('ZREM', key('wt'), n)
end
local first = redis.call('ZRANGE', key('lz'), 0, 0, 'WITHSCORES')
if first[1] then
  redis.call('HSET', KEYS[1], 'ri', first[2])
  return {outcome = 'ok', ended = str(ended), earliest = first[2]}
end
redis.call('HDEL', KEYS[1], 'ri')
return {outcome = 'ok', ended = str(ended), earliest = '-1'}
