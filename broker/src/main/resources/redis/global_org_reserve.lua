-- Global (KEYS[1] the organization sequence, KEYS[2] the organization -> account index, both in
-- the global hash tag): reserves the next organization id for account ARGV[1].account (JSON). The
-- index entry comes first, so an organization that exists is always found; an entry whose
-- creation was then refused (or never happened) names an account without that organization, and
-- every reader checks the account itself. Outcome ok {id}.
local req = cjson.decode(ARGV[1])
local id = 'OG-' .. string.format('%d', redis.call('INCR', KEYS[1]))
redis.call('HSET', KEYS[2], id, req.account)
return cjson.encode({outcome = 'ok', id = id})
