-- terminate: ARGV[10] session id. Its next renew answers SESSION_TERMINATED.
if not account_exists() then
  return no_account()
end
if end_session(ARGV[10], 'SESSION_TERMINATED') then
  return {'OK', 1}
end
return {'OK', 0}
