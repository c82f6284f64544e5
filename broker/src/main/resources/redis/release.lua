-- release: REQ sid, user ('' skips the ownership guard), cause ('' for the agent's own release:
-- no tombstone; SESSION_TERMINATED for an admin's). Outcomes: ok {ended '1'/'0' when it had
-- already ended}, not_owner.
if not account_exists() then
  return NO_ACCOUNT
end
local owner = redis.call('HGET', key('s:' .. REQ.sid), 'u')
if not owner then
  return {outcome = 'ok', ended = '0'}
end
if REQ.user ~= '' and owner ~= REQ.user then
  return {outcome = 'not_owner'}
end
local cause = nil
if REQ.cause ~= '' then
  cause = REQ.cause
end
end_session(REQ.sid, cause)
return {outcome = 'ok', ended = '1', changed = '1'}
