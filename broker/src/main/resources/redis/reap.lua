-- reap: ARGV[10] the most sessions to end. Ends sessions whose lease ran out by NOW, earliest
-- first (idempotent: what is ended is gone), then records the account's earliest remaining lease
-- end as what the node is about to put into the global reap index ("ri"), and answers
-- {'OK', ended, earliest lease end or -1}. With 0 it only re-reads the earliest lease (a reindex).
if not account_exists() then
  return {'OK', 0, -1}
end
local ended = expire_due(tonumber(ARGV[10]))
forget_idle_nodes()
local first = redis.call('ZRANGE', key('lz'), 0, 0, 'WITHSCORES')
if first[1] then
  redis.call('HSET', KEYS[1], 'ri', first[2])
  return {'OK', ended, tonumber(first[2])}
end
redis.call('HDEL', KEYS[1], 'ri')
return {'OK', ended, -1}
