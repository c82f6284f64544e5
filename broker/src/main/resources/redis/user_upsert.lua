-- upsertUser: ARGV[10] user id, ARGV[11] assigned org ('' none), ARGV[12..] project orgs (distinct,
-- in order). Every organization named must be one of this account's. Bumps the configuration
-- version: acquire plans computed from the old record are refused as STALE from now on.
if not account_exists() then
  return no_account()
end
local user, assigned = ARGV[10], ARGV[11]
if assigned ~= '' and redis.call('HEXISTS', key('o'), assigned) == 0 then
  return denied('ORGANIZATION_NOT_FOUND', 'no organization ' .. assigned .. ' in account ' .. ACCT, 'assigned_org_id')
end
local projects = {}
for i = 12, #ARGV do
  if redis.call('HEXISTS', key('o'), ARGV[i]) == 0 then
    return denied('ORGANIZATION_NOT_FOUND', 'no organization ' .. ARGV[i] .. ' in account ' .. ACCT, 'project_org_ids')
  end
  projects[#projects + 1] = ARGV[i]
end
redis.call('HSET', key('u'), user, assigned .. '|' .. table.concat(projects, ','))
redis.call('HINCRBY', KEYS[1], 'cv', 1)
return {'OK'}
