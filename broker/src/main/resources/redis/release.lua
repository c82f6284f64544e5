-- release: ARGV[10] session id, ARGV[11] user id ('' skips the ownership check). {'OK', 0} when the
-- session had already ended: releasing twice is not an error.
if not account_exists() then
  return no_account()
end
local sid, user = ARGV[10], ARGV[11]
local owner = redis.call('HGET', key('s:' .. sid), 'u')
if not owner then
  return {'OK', 0}
end
if user ~= '' and owner ~= user then
  return denied('PERMISSION_DENIED', 'session ' .. sid .. ' belongs to another user', 'session_id')
end
end_session(sid, nil)
return {'OK', 1}
