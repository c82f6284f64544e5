-- sessionKey: ARGV[10] a fresh random key (hex). The account's key for session tickets
-- (SessionTickets.java), made once: the first candidate stored wins, every node reads the winner.
if not account_exists() then
  return no_account()
end
redis.call('HSETNX', KEYS[1], 'sk', ARGV[10])
return {'OK', redis.call('HGET', KEYS[1], 'sk')}
