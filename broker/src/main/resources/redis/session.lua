-- session: the session REQ.sid (its name) while Redis has it: live, or run out and not reaped yet,
-- as the listing shows it. Outcome ok {session (absent: none)}. Nothing here writes.
if not account_exists() then
  return NO_ACCOUNT
end
if redis.call('EXISTS', key('s:' .. REQ.sid)) == 0 then
  return {outcome = 'ok'}
end
return {outcome = 'ok', session = session_reply(REQ.sid)}
