-- createAccount: ARGV[10] name. A new account starts with the default policy (UNRESTRICTED,
-- fallback on) and configuration version 0. ALREADY_EXISTS carries the stored name, so the node
-- can repair the global account list if an earlier attempt stopped between the two writes.
if account_exists() then
  return {'D', 'ALREADY_EXISTS', 'account ' .. ACCT .. ' already exists', 'account_id', redis.call('HGET', KEYS[1], 'n')}
end
redis.call('HSET', KEYS[1], 'n', ARGV[10], 'pol', 'UNRESTRICTED', 'fb', '1', 'cv', '0')
return {'OK'}
