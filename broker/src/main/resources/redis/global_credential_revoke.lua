-- Global (KEYS[1] credentials by lookup id, KEYS[2] the credentials epoch): revokes a credential;
-- ARGV[1] lookup id, ARGV[2] the new epoch (random, chosen by the caller). Deleting and bumping in
-- one step: no node can read the old epoch after the credential is gone and keep using its cache.
-- Answers {1, encoded credential} or {0} when there is no credential of that id.
local encoded = redis.call('HGET', KEYS[1], ARGV[1])
if not encoded then
  return {0}
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
return {1, encoded}
