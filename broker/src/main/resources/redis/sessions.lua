-- sessions: one page of live sessions in id order. REQ product, pool, user, machine ('' = any),
-- size (page size), after (page token, '' = from the start). Scans at most SCAN_LIMIT ids per
-- call so a sparse filter over a big account never holds Redis for long: a page may then come
-- back short, with a token to go on from (ids are strictly after the token, so paging stays
-- exact). Outcome ok {next ('' none), sessions}.
if not account_exists() then
  return NO_ACCOUNT
end
local size = tonumber(REQ.size)
local from = '-'
if REQ.after ~= '' then
  from = '(' .. REQ.after
end
local SCAN_LIMIT, CHUNK = 5000, 500
local page, scanned, last, more = {}, 0, nil, false
while true do
  local ids = redis.call('ZRANGEBYLEX', key('sl'), from, '+', 'LIMIT', 0, CHUNK)
  if #ids == 0 then
    break
  end
  for _, sid in ipairs(ids) do
    scanned = scanned + 1
    local s = redis.call('HMGET', key('s:' .. sid), 'p', 'o', 'u', 'm')
    if (REQ.product == '' or REQ.product == s[1]) and (REQ.pool == '' or REQ.pool == s[2])
        and (REQ.user == '' or REQ.user == s[3]) and (REQ.machine == '' or REQ.machine == s[4]) then
      if #page == size then
        more = true
        break
      end
      page[#page + 1] = sid
    end
    last = sid
    if scanned >= SCAN_LIMIT then
      more = true
      break
    end
  end
  if more or #ids < CHUNK then
    break
  end
  from = '(' .. ids[#ids]
end
local next_token = ''
if more then
  if #page == size then
    next_token = page[#page]
  else
    next_token = last
  end
end
local sessions = {}
for i, sid in ipairs(page) do
  sessions[i] = session_reply(sid)
end
return {outcome = 'ok', next = next_token, sessions = sessions}
