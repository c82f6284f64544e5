-- history_denied: counts refusals the core charged to a pool (UsageHistory.charge) in its usage
-- history and in who-was-denied (history_lib.lua). REQ.denials: [{product, pool, user, reason,
-- level ('' for a pool of sessions: its live sessions)}]. Outcome ok.
if not account_exists() then
  return NO_ACCOUNT
end
for _, d in ipairs(REQ.denials) do
  local level = d.level
  if level == '' then
    level = redis.call('SCARD', key('ps:' .. d.product .. ':' .. d.pool))
  end
  hist_denied(d.product, d.pool, d.user, d.reason, tonumber(level))
end
return {outcome = 'ok', changed = '1'}
