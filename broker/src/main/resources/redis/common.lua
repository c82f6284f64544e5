-- Prelude of every account script (RedisStore prepends it when it loads a script).
--
-- KEYS[1] is the account's main hash "lb:{<account>}:a". Every other key of the account is built
-- from the same prefix, so it shares the hash tag and a script touches exactly one cluster slot.
-- ARGV[1] account id, ARGV[2] time source ('S' = this server's TIME, 'C' = the caller's clock),
-- ARGV[3] the caller's now (epoch ms), ARGV[4] tombstone retention (ms), ARGV[5] the calling
-- node's id, ARGV[6] how many acquires of this node the node has seen this account count (0: no
-- check), ARGV[7] the learning period (ms, 0: none), ARGV[8] an operation id ('' none), ARGV[9]
-- how long its reply is kept (ms); verb arguments follow from ARGV[10].
--
-- Every verb runs inside finish() (Script.java wraps it), which answers {lost, node count, reply...}:
-- lost is how many of this node's acquires Redis had forgotten (see "state loss" below), node
-- count the node's acquire count after the verb if the verb changed it (else 0; -1 when the
-- account itself is gone).
--
-- Replies: {'OK', ...} granted, {'D', reason, detail, field} denied (field '' when none),
-- {'STALE', ...} the caller's configuration version is out of date (nothing was changed).
-- Every check of a verb runs before its first write, so a denial never leaves a partial change.
--
-- Numbers are turned into strings with str() (%d), never with '..': Lua 5.1 formats numbers with
-- 14 significant digits, which would round epoch milliseconds of far dates.

if redis.replicate_commands then
  -- Redis < 7 needs this before a script may write after reading TIME (effects replication).
  redis.replicate_commands()
end

local ACCT = ARGV[1]
local PFX = string.sub(KEYS[1], 1, -2)
local CALLER_NOW = tonumber(ARGV[3])
local NOW = CALLER_NOW
if ARGV[2] == 'S' then
  -- Lease time is the Redis server's: nodes with skewed clocks agree on every expiry.
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local SERVER_TIME = ARGV[2] == 'S'
local TOMBSTONE_MS = tonumber(ARGV[4])

local function key(suffix)
  return PFX .. suffix
end

local function str(n)
  return string.format('%d', n)
end

-- An epoch-millisecond instant in ISO-8601 UTC, written exactly as java.time.Instant#toString
-- writes it, so a refusal from Redis says the same words as one from the embedded store.
local function instant(ms)
  ms = tonumber(ms)
  local secs = math.floor(ms / 1000)
  local milli = ms - secs * 1000
  local days = math.floor(secs / 86400)
  local rem = secs - days * 86400
  -- Days since 1970-01-01 to a civil date (the proleptic Gregorian calendar, as java.time).
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local day = doy - math.floor((153 * mp + 2) / 5) + 1
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400
  if month <= 2 then
    year = year + 1
  end
  local text = string.format('%04d-%02d-%02dT%02d:%02d:%02d', year, month, day,
      math.floor(rem / 3600), math.floor((rem % 3600) / 60), rem % 60)
  if year > 9999 then
    text = '+' .. text
  end
  if milli > 0 then
    text = text .. string.format('.%03d', milli)
  end
  return text .. 'Z'
end

local function num(v)
  if v then
    return tonumber(v)
  end
  return 0
end

local function denied(reason, detail, field)
  return {'D', reason, detail, field or ''}
end

local function account_exists()
  return redis.call('EXISTS', KEYS[1]) == 1
end

local function no_account()
  return denied('ACCOUNT_NOT_FOUND', 'no account ' .. ACCT, 'account_id')
end

-- ------------------------------------------------------------------ organizations

-- "o" maps org id -> "ordinal|parent|name" (parent '' for a top-level organization).
local function org(id)
  local v = redis.call('HGET', key('o'), id)
  if not v then
    return nil
  end
  local a = string.find(v, '|', 1, true)
  local b = string.find(v, '|', a + 1, true)
  return {ord = tonumber(string.sub(v, 1, a - 1)), parent = string.sub(v, a + 1, b - 1), name = string.sub(v, b + 1)}
end

local function parent_pool(o)
  if o.parent == '' then
    return ACCT
  end
  return o.parent
end

-- ------------------------------------------------------------------ pool arithmetic

-- Offline licenses count while live (expiry after NOW); expired ones stop counting by themselves.
local function offline_live(product)
  return redis.call('ZCOUNT', key('offx:' .. product), '(' .. str(NOW), '+inf')
end

local function offline_live_for(product, machine)
  local exp = redis.call('ZSCORE', key('offx:' .. product), machine)
  return exp and tonumber(exp) > NOW
end

local function in_use(product, pool)
  return redis.call('SCARD', key('ps:' .. product .. ':' .. pool))
end

local function allocated(product, pool)
  return num(redis.call('HGET', key('pa:' .. product), pool))
end

-- The account pool's dedicated licenses are the subscription's minus the live offline licenses.
local function dedicated(product, pool)
  if pool == ACCT then
    local l = redis.call('HGET', key('sub:' .. product), 'l')
    if not l then
      return 0
    end
    return tonumber(l) - offline_live(product)
  end
  return num(redis.call('HGET', key('pd:' .. product), pool))
end

local function available(product, pool)
  return dedicated(product, pool) - allocated(product, pool) - in_use(product, pool)
end

-- Keeps "room:<product>" (organizations with available > 0, by creation ordinal) up to date:
-- "any other organization" takes its first member.
local function touch(product, pool)
  if pool == ACCT then
    return
  end
  local o = org(pool)
  if not o then
    return
  end
  if available(product, pool) > 0 then
    redis.call('ZADD', key('room:' .. product), o.ord, pool)
  else
    redis.call('ZREM', key('room:' .. product), pool)
  end
end

-- Forgets offline licenses that ran out (they already stopped counting; this only frees memory).
local function prune_offline(product)
  local gone = redis.call('ZRANGEBYSCORE', key('offx:' .. product), '-inf', str(NOW))
  if #gone > 0 then
    redis.call('HDEL', key('off:' .. product), unpack(gone))
    redis.call('ZREMRANGEBYSCORE', key('offx:' .. product), '-inf', str(NOW))
  end
end

-- ------------------------------------------------------------------ sessions

local SESSION_FIELDS = {'p', 'u', 'm', 'o', 'f', 'r', 'b', 'e'}

-- id, product, user, machine, pool, fallback (0/1), request id, started (ms), lease end (ms)
local function session_reply(sid)
  local s = redis.call('HMGET', key('s:' .. sid), unpack(SESSION_FIELDS))
  return {sid, s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8]}
end

-- Ends a live session; cause nil for a release (no tombstone), else what a late renew is told.
local function end_session(sid, cause)
  local skey = key('s:' .. sid)
  local s = redis.call('HMGET', skey, 'p', 'u', 'm', 'o', 'r')
  if not s[1] then
    return false
  end
  redis.call('DEL', skey)
  redis.call('ZREM', key('lz'), sid)
  redis.call('ZREM', key('sl'), sid)
  redis.call('SREM', key('ps:' .. s[1] .. ':' .. s[4]), sid)
  redis.call('SREM', key('mx:' .. s[1] .. ':' .. s[3]), sid)
  if s[5] ~= '' then
    local rk = s[2] .. '\n' .. s[5]
    if redis.call('HGET', key('rq'), rk) == sid then
      redis.call('HDEL', key('rq'), rk)
    end
  end
  touch(s[1], s[4])
  if cause then
    redis.call('SET', key('t:' .. sid), cause .. '|' .. str(NOW), 'PX', TOMBSTONE_MS)
  end
  return true
end

-- Ends up to max sessions whose lease ran out by NOW, earliest lease first.
local function expire_due(max)
  if max <= 0 then
    return 0
  end
  local due = redis.call('ZRANGEBYSCORE', key('lz'), '-inf', str(NOW), 'LIMIT', 0, max)
  for _, sid in ipairs(due) do
    end_session(sid, 'SESSION_EXPIRED')
  end
  return #due
end

-- Why a session id is not live: its tombstone (expired, terminated) while retained, else unknown.
local function gone(sid)
  local t = redis.call('GET', key('t:' .. sid))
  if t then
    local bar = string.find(t, '|', 1, true)
    local cause = string.sub(t, 1, bar - 1)
    local at = tonumber(string.sub(t, bar + 1))
    if at + TOMBSTONE_MS > NOW then
      local how = ' was terminated at '
      if cause == 'SESSION_EXPIRED' then
        how = ' expired at '
      end
      return denied(cause, 'session ' .. sid .. how .. instant(at), 'session_id')
    end
  end
  return denied('SESSION_NOT_FOUND', 'no live session ' .. sid, 'session_id')
end

-- ------------------------------------------------------------------ machines

-- "mc:<product>" maps machine id -> "seq|registeredAt"; seq keeps registration order.
local function register_machine(product, machine)
  local seq = redis.call('HINCRBY', KEYS[1], 'ms', 1)
  redis.call('HSET', key('mc:' .. product), machine, str(seq) .. '|' .. str(NOW))
end

-- ------------------------------------------------------------------ usage

-- The license table of one product from this one state: account name, subscription (or ''),
-- registered machines, live offline licenses, the account pool's allocated and in use, then per
-- organization in creation order: id, parent ('' top-level), name, dedicated, allocated, in use.
local function usage_reply(product)
  local sub = redis.call('HMGET', key('sub:' .. product), 'l', 'q', 'x')
  local orgs = redis.call('LRANGE', key('ol'), 0, -1)
  local out = {'OK', redis.call('HGET', KEYS[1], 'n'), sub[1] or '', sub[2] or '', sub[3] or '',
               redis.call('HLEN', key('mc:' .. product)), offline_live(product),
               allocated(product, ACCT), in_use(product, ACCT), #orgs}
  for _, id in ipairs(orgs) do
    local o = org(id)
    out[#out + 1] = id
    out[#out + 1] = o.parent
    out[#out + 1] = o.name
    out[#out + 1] = num(redis.call('HGET', key('pd:' .. product), id))
    out[#out + 1] = allocated(product, id)
    out[#out + 1] = in_use(product, id)
  end
  return out
end

-- ------------------------------------------------------------------ verb

-- ------------------------------------------------------------------ state loss and learning
--
-- Redis can lose acknowledged writes: a restart without AOF, or a replica promoted before it had
-- the last writes. Each node counts, per account, the acquires it made (account field
-- "w:<node>") and remembers the highest count it saw. A count in Redis below what the node saw is
-- proof that Redis lost state: from then on, for one learning period ("lrn", the time it ends),
-- licenses are kept for the sessions granted before the loss (their agents renew within a lease,
-- and a renew of a session Redis forgot re-admits it), so new acquires are refused.

local NODE, KNOWN, LEARN_MS = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local OP, OP_MS = ARGV[8], tonumber(ARGV[9])
local NODE_FIELD = 'w:' .. NODE
-- A node that made no acquire here for this long is forgotten (nodes forget sooner: a day).
local NODE_IDLE_MS = 7 * 24 * 3600 * 1000

-- One read for both, on every call: it is what the loss check and acquire need.
local LOSS_STATE = redis.call('HMGET', KEYS[1], 'lrn', NODE_FIELD)
local LEARN_UNTIL = num(LOSS_STATE[1])

local function learning()
  return NOW < LEARN_UNTIL
end

-- This node's acquire count after this script, when it changed (0: unchanged, nothing to report).
local NODE_COUNT = 0

local function count_acquire()
  NODE_COUNT = redis.call('HINCRBY', KEYS[1], NODE_FIELD, 1)
  redis.call('ZADD', key('wt'), NOW, NODE)
end

-- Forgets nodes that made no acquire here for a week (node ids are per process); reap.lua calls it.
local function forget_idle_nodes()
  local idle = redis.call('ZRANGEBYSCORE', key('wt'), '-inf', str(NOW - NODE_IDLE_MS), 'LIMIT', 0, 16)
  for _, n in ipairs(idle) do
    redis.call('HDEL', KEYS[1], 'w:' .. n)
    redis.call('ZREM', key('wt'), n)
  end
end

local LOST = 0
if KNOWN > 0 then
  local have = num(LOSS_STATE[2])
  if have < KNOWN then
    if not account_exists() then
      LOST = KNOWN -- the whole account is gone: nothing to keep licenses for
      NODE_COUNT = -1 -- and so is the count: the node starts over
    else
      LOST = KNOWN - have
      -- Back to what the node saw, so this loss is reported once, not by every call in flight.
      redis.call('HSET', KEYS[1], NODE_FIELD, str(KNOWN))
      redis.call('ZADD', key('wt'), NOW, NODE)
      if LEARN_MS > 0 and NOW + LEARN_MS > LEARN_UNTIL then
        LEARN_UNTIL = NOW + LEARN_MS
        redis.call('HSET', KEYS[1], 'lrn', str(LEARN_UNTIL))
      end
    end
  end
end

-- Runs the verb once per operation id: the Redis client re-sends a command that was in flight
-- when its connection dropped, and the first run may have happened; the re-send gets the first
-- run's reply. A change keeps its reply under the id for a while. A re-run of a change finds
-- nothing left to do (a refusal, or {'OK', 0}), and only then is the kept reply looked up, so a
-- first run pays one write and no read.
local function finish(verb)
  local reply = verb()
  if OP ~= '' then
    local op_key = key('op:' .. OP)
    if reply[1] == 'OK' and reply[2] ~= 0 then
      redis.call('SET', op_key, cjson.encode(reply), 'PX', OP_MS)
    else
      local first = redis.call('GET', op_key)
      if first then
        reply = cjson.decode(first)
      end
    end
  end
  -- Flat, not nested: a client that re-sends a command reuses its reply parser, whose nesting
  -- state a reply cut by a dropped connection leaves behind.
  local out = {LOST, NODE_COUNT}
  for i = 1, #reply do
    out[i + 2] = reply[i]
  end
  return out
end
