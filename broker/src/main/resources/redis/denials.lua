-- denials: who was denied (history_lib.lua, "hw") in the buckets of step REQ.step (code) from
-- REQ.first to REQ.end (ms). Outcome ok {buckets: [{start, fields [name, value, ...]}]}; the core
-- assembles the report (DenialReport.java).
if not account_exists() then
  return NO_ACCOUNT
end
local st = hist_step(REQ.step)
local buckets = {}
local s = tonumber(REQ.first)
while s < tonumber(REQ['end']) do
  local flat = redis.call('HGETALL', key('hw' .. st.code .. ':' .. str(s)))
  if #flat > 0 then
    buckets[#buckets + 1] = {start = str(s), fields = flat}
  end
  s = s + st.ms
end
return {outcome = 'ok', buckets = buckets}
