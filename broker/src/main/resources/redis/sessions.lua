-- sessions: one page of live sessions in id order. ARGV[10] product, ARGV[11] pool, ARGV[12] user,
-- ARGV[13] machine ('' = any), ARGV[14] page size, ARGV[15] page token ('' = from the start).
-- Scans at most SCAN_LIMIT ids per call so a sparse filter over a big account never holds Redis
-- for long: a page may then come back short, with a token to go on from (ids are strictly after
-- the token, so paging stays exact). Answers {'OK', next token or '', sessions...}.
if not account_exists() then
  return no_account()
end
local product, pool, user, machine = ARGV[10], ARGV[11], ARGV[12], ARGV[13]
local size = tonumber(ARGV[14])
local from = '-'
if ARGV[15] ~= '' then
  from = '(' .. ARGV[15]
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
    if (product == '' or product == s[1]) and (pool == '' or pool == s[2])
        and (user == '' or user == s[3]) and (machine == '' or machine == s[4]) then
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
local out = {'OK', next_token}
for _, sid in ipairs(page) do
  for _, v in ipairs(session_reply(sid)) do
    out[#out + 1] = v
  end
end
return out
