-- sessionKey: REQ candidate, a fresh random key (hex). The account's key for session tickets
-- (SessionTickets.java), made once: the first candidate stored wins, every node reads the winner.
if not account_exists() then
  return NO_ACCOUNT
end
redis.call('HSETNX', KEYS[1], 'sk', REQ.candidate)
return {outcome = 'ok', key = redis.call('HGET', KEYS[1], 'sk')}
