-- Global (KEYS[1] the organization sequence, KEYS[2] the organization -> account index, both in
-- the global hash tag): reserves the next organization id for ARGV[1]'s account. The index entry
-- comes first, so an organization that exists is always found; an entry whose creation was then
-- refused (or never happened) names an account without that organization, and every reader
-- checks the account itself, which answers ORGANIZATION_NOT_FOUND.
local id = 'OG-' .. string.format('%d', redis.call('INCR', KEYS[1]))
redis.call('HSET', KEYS[2], id, ARGV[1])
return id
