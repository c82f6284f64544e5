-- history: the usage history buckets (history_lib.lua) of step REQ.step (code) of REQ.product's
-- pools REQ.pools, from REQ.first to REQ.end (ms): per pool, the closed buckets of the group
-- hashes that cover the range, and the bucket in progress. The core assembles the answer
-- (HistoryAssembly.java). Outcome ok {pools: {pool: {open {...}, closed [json]}}}.
if not account_exists() then
  return NO_ACCOUNT
end
local st = hist_step(REQ.step)
local first, last = tonumber(REQ.first), tonumber(REQ['end'])
local pools = {}
for _, pool in ipairs(REQ.pools) do
  local prefix = 'hb' .. st.code .. ':' .. REQ.product .. ':' .. pool .. ':'
  local closed = {}
  local g = first - (first % st.group)
  while g < last do
    local flat = redis.call('HGETALL', key(prefix .. str(g)))
    for i = 2, #flat, 2 do
      closed[#closed + 1] = flat[i - 1] .. '|' .. flat[i]
    end
    g = g + st.group
  end
  local open = {}
  local cur = redis.call('HGETALL', key('hc:' .. REQ.product .. ':' .. pool))
  local c = st.code
  for i = 1, #cur, 2 do
    local f = cur[i]
    if string.sub(f, 1, 1) == c then
      open[string.sub(f, 2)] = cur[i + 1]
    end
  end
  pools[pool] = {open = open, closed = closed}
end
return {outcome = 'ok', pools = pools}
