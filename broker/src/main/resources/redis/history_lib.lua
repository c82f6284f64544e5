-- Usage history upkeep (CONTRACT.md section 7), for the scripts that change a pool's in_use (Script.java
-- adds it after common.lua, with HIST before it: the steps as the core defines them, RedisHistory.java).
-- The rules (which refusals count, which pool a refusal is charged to, how buckets become an answer,
-- how long each step is kept) are the core's; here the counters of each bucket are kept up to date in
-- the same atomic step that changes in_use, so peaks are exact across every node:
--   hash "hc:<product>:<pool>": per step (code c: m, h, d) its bucket in progress: cs its start, cl the
--     level at its first change, cp the highest level, ce the level after its last change, cg grants,
--     "cd:<REASON>" denials;
--   hash "hb<c>:<product>:<pool>:<group start>": closed buckets of step c (field: start, value: JSON
--     {l, p, e, g, d {REASON: n}}), archived at the pool's first change in a later bucket; the hash
--     expires when its newest bucket has left the step's retention;
--   hash "hw<c>:<start>": who was denied in that bucket of step c (HIST.who_steps): fields
--     "n\n<product>\n<pool>\n<user>\n<reason>" the count and "t\n..." the latest time; at most
--     HIST.who_max users a bucket, further ones count as HIST.who_other. Expires with its retention.
-- HIST.steps: [{code, ms (length), group (ms: one "hb" hash's span), keep (retention, ms), and the
-- names of its fields in "hc:" (s, l, p, e, g, d)}]; HIST.read: the fields hist_record reads.

-- Sets a key's expiry to when its newest content (ending at `until_ms`) leaves a retention of
-- `keep` ms: relative to NOW, so that the caller's clock (tests) and the server's agree.
local function hist_expire(k, until_ms, keep)
  local ttl = until_ms + keep - NOW
  if ttl < 1 then
    ttl = 1
  end
  redis.call('PEXPIRE', k, ttl)
end

-- Moves step st's bucket in progress (from `all`, the pool's HGETALL as a table) to its group hash.
local function hist_archive(product, pool, st, all)
  local start = tonumber(all[st.s])
  if start + st.ms + st.keep <= NOW then
    return -- already past its retention
  end
  local group = start - (start % st.group)
  local denied, any = {}, false
  local prefix = st.d
  for f, v in pairs(all) do
    if string.sub(f, 1, #prefix) == prefix then
      denied[string.sub(f, #prefix + 1)] = v
      any = true
    end
  end
  local b = {l = all[st.l], p = all[st.p], e = all[st.e], g = all[st.g] or '0'}
  if any then
    b.d = denied
  end
  local hb = key('hb' .. st.code .. ':' .. product .. ':' .. pool .. ':' .. str(group))
  redis.call('HSET', hb, str(start), cjson.encode(b))
  hist_expire(hb, group + st.group, st.keep)
end

-- The step of a code ('m', 'h', 'd'), for the scripts that read a step's buckets.
local function hist_step(code)
  for _, st in ipairs(HIST.steps) do
    if st.code == code then
      return st
    end
  end
  error('no history step ' .. tostring(code))
end

local function hgetall(k)
  local flat = redis.call('HGETALL', k)
  local t = {}
  for i = 1, #flat, 2 do
    t[flat[i]] = flat[i + 1]
  end
  return t
end

-- Counts, in every step's bucket in progress of the pool, a change of its in_use from `before` to
-- `after` (equal for a denial), a grant when `grant`, a denial for `reason` when given. A bucket
-- that has passed is archived first; a call dated before the bucket in progress counts in it.
-- The common case (no step has passed) is two commands: one HMGET, one HSET.
local function hist_record(product, pool, before, after, grant, reason)
  local hc = key('hc:' .. product .. ':' .. pool)
  local cur = redis.call('HMGET', hc, unpack(HIST.read))
  local set, n, drop, all, rolled = {}, 0, {}, nil, false
  for i, st in ipairs(HIST.steps) do
    local start = NOW - (NOW % st.ms)
    local s, p, g = cur[3 * i - 2], cur[3 * i - 1], cur[3 * i]
    if not s or start > tonumber(s) then
      if s then
        all = all or hgetall(hc)
        hist_archive(product, pool, st, all)
        for f, _ in pairs(all) do
          if string.sub(f, 1, #st.d) == st.d then
            drop[#drop + 1] = f
          end
        end
      end
      rolled = true
      local peak = before
      if after > peak then
        peak = after
      end
      set[n + 1], set[n + 2], set[n + 3], set[n + 4] = st.s, str(start), st.l, str(before)
      set[n + 5], set[n + 6], set[n + 7], set[n + 8] = st.p, str(peak), st.e, str(after)
      set[n + 9], set[n + 10] = st.g, grant and '1' or '0'
      n = n + 10
    else
      if after > tonumber(p) then
        set[n + 1], set[n + 2] = st.p, str(after)
        n = n + 2
      end
      set[n + 1], set[n + 2] = st.e, str(after)
      n = n + 2
      if grant then
        set[n + 1], set[n + 2] = st.g, str(num(g) + 1)
        n = n + 2
      end
    end
  end
  if #drop > 0 then
    redis.call('HDEL', hc, unpack(drop))
  end
  redis.call('HSET', hc, unpack(set))
  if reason then
    for _, st in ipairs(HIST.steps) do
      redis.call('HINCRBY', hc, st.d .. reason, 1)
    end
  end
  if rolled then
    -- The pool's newest buckets outlive its last change by the longest retention.
    local last = HIST.steps[#HIST.steps]
    hist_expire(hc, NOW - (NOW % last.ms) + last.ms, last.keep)
  end
end

-- A live session joined (+1) or left (-1) a pool of sessions, now holding `level` ("ps:" sets).
local function hist_session(product, pool, level, delta, grant)
  hist_record(product, pool, level - delta, level, grant, nil)
end

-- Counts a refusal of `user` for `reason`, charged to pool `pool` at in_use `level`, in the pool's
-- buckets and in who-was-denied.
local function hist_denied(product, pool, user, reason, level)
  hist_record(product, pool, level, level, false, reason)
  local rest = product .. '\n' .. pool .. '\n' .. user .. '\n' .. reason
  local other = product .. '\n' .. pool .. '\n' .. HIST.who_other .. '\n' .. reason
  for _, st in ipairs(HIST.steps) do
    if HIST.who_steps[st.code] then
      local start = NOW - (NOW % st.ms)
      local hw = key('hw' .. st.code .. ':' .. str(start))
      local counted = rest
      -- Two fields a (pool, user, reason): the bound counts them in pairs.
      if redis.call('HEXISTS', hw, 'n\n' .. rest) == 0 and redis.call('HLEN', hw) >= 2 * tonumber(HIST.who_max) then
        counted = other
      end
      redis.call('HINCRBY', hw, 'n\n' .. counted, 1)
      local t = redis.call('HGET', hw, 't\n' .. counted)
      if not t or tonumber(t) < NOW then
        redis.call('HSET', hw, 't\n' .. counted, str(NOW))
      end
      hist_expire(hw, start + st.ms, st.keep)
    end
  end
end
