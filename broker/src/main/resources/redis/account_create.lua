-- createAccount: REQ name, config (the new account's configuration, from the core) and version
-- (a fresh random id, see apply.lua). 'exists' carries the stored name, so the node can repair
-- the global account list if an earlier attempt stopped between its two writes.
if account_exists() then
  return {outcome = 'exists', name = redis.call('HGET', KEYS[1], 'n')}
end
redis.call('HSET', KEYS[1], 'n', REQ.name, 'cv', REQ.version, 'cfg', REQ.config)
return {outcome = 'ok', changed = '1'}
