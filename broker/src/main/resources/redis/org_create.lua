-- createOrganization: ARGV[10] org id (reserved in the global index beforehand), ARGV[11] parent id
-- ('' = top level), ARGV[12] name. The ordinal is the account's creation order, which "any other
-- organization" follows.
if not account_exists() then
  return no_account()
end
local id, parent, name = ARGV[10], ARGV[11], ARGV[12]
if redis.call('HEXISTS', key('o'), id) == 1 then
  return denied('ALREADY_EXISTS', 'organization ' .. id .. ' already exists', 'org_id')
end
if parent ~= '' and redis.call('HEXISTS', key('o'), parent) == 0 then
  return denied('ORGANIZATION_NOT_FOUND', 'no organization ' .. parent .. ' in account ' .. ACCT, 'parent_id')
end
local ordinal = redis.call('HINCRBY', KEYS[1], 'oc', 1) - 1
redis.call('HSET', key('o'), id, str(ordinal) .. '|' .. parent .. '|' .. name)
redis.call('RPUSH', key('ol'), id)
local parent_key = parent
if parent == '' then
  parent_key = ACCT
end
redis.call('RPUSH', key('ch:' .. parent_key), id)
return {'OK'}
