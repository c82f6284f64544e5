-- Global (KEYS[1] credentials by lookup id, KEYS[2] the credentials epoch): revokes a credential.
-- ARGV[1] (JSON): id (lookup id), epoch (the new one, random, chosen by the caller). Deleting and
-- bumping in one step: no node can read the old epoch after the credential is gone and keep using
-- its cache. Outcomes: revoked {encoded}, unknown.
local req = cjson.decode(ARGV[1])
local encoded = redis.call('HGET', KEYS[1], req.id)
if not encoded then
  return cjson.encode({outcome = 'unknown'})
end
redis.call('HDEL', KEYS[1], req.id)
redis.call('SET', KEYS[2], req.epoch)
return cjson.encode({outcome = 'revoked', encoded = encoded})
