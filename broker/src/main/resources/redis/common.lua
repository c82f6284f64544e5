-- Prelude of every account script (Script.java prepends it). It decides nothing: the rules live
-- in the broker's core, which sends each script the atomic step to take and the guards to check.
--
-- KEYS[1] is the account's main hash "lb:{<account>}:a". Every other key of the account is built
-- from the same prefix, so it shares the hash tag and a script touches exactly one cluster slot.
-- ARGV[1] holds, as JSON, what every call carries (ScriptRunner.java):
--   time       'S' this server's TIME, 'C' the caller's clock
--   now        the caller's now (epoch ms)
--   tombstone  how long an ended session's tombstone is kept (ms)
--   node       the calling node's id; known: how many acquires of this node the node has seen in
--              this account (0: no check); learn: the learning period (ms, 0: none)
--   op         an operation id ('' none) and op_ms how long its reply is kept (ms)
-- ARGV[2] holds the verb's request as JSON, decoded into REQ.
--
-- A verb answers a table with a named 'outcome' ('ok' when it took its step); finish() wraps it
-- as {lost, node_count, reply} (JSON). Every check of a verb runs before its first write, so a
-- refused step never leaves a partial change. Times and counts go out as strings (str()): cjson
-- writes numbers with 14 significant digits, which would round epoch milliseconds of far dates.

if redis.replicate_commands then
  -- Redis < 7 needs this before a script may write after reading TIME (effects replication).
  redis.replicate_commands()
end

local CALL = cjson.decode(ARGV[1])
local REQ = cjson.decode(ARGV[2])
local PFX = string.sub(KEYS[1], 1, -2)
local CALLER_NOW = tonumber(CALL.now)
local NOW = CALLER_NOW
local SERVER_TIME = CALL.time == 'S'
if SERVER_TIME then
  -- Lease time is the Redis server's: nodes with skewed clocks agree on every expiry.
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local TOMBSTONE_MS = tonumber(CALL.tombstone)

local function key(suffix)
  return PFX .. suffix
end

local function str(n)
  return string.format('%d', n)
end

local function num(v)
  if v then
    return tonumber(v)
  end
  return 0
end

local function account_exists()
  return redis.call('EXISTS', KEYS[1]) == 1
end

local NO_ACCOUNT = {outcome = 'no_account'}

-- Why a step computed from configuration version `version` may not go on: the account is gone,
-- or its configuration changed since (stale, with the current one); nil when it may.
local function not_at(version)
  if not account_exists() then
    return NO_ACCOUNT
  end
  local cv = redis.call('HGET', KEYS[1], 'cv')
  if cv ~= version then
    return {outcome = 'stale', version = cv, config = redis.call('HGET', KEYS[1], 'cfg')}
  end
  return nil
end

-- ------------------------------------------------------------------ state loss and learning
--
-- Redis can lose acknowledged writes: a restart without AOF, or a replica promoted before it had
-- the last writes. Each node counts, per account, the acquires it made (account field
-- "w:<node>") and remembers the highest count it saw. A count in Redis below what the node saw is
-- proof that Redis lost state: from then on, for one learning period ("lrn", the time it ends),
-- licenses are kept for the sessions granted before the loss (their agents renew within a lease,
-- and a renew of a session Redis forgot re-admits it), so new acquires wait.

local NODE, KNOWN, LEARN_MS = CALL.node, tonumber(CALL.known), tonumber(CALL.learn)
local NODE_FIELD = 'w:' .. NODE
-- A node that made no acquire here for this long is forgotten (nodes forget sooner: a day).
local NODE_IDLE_MS = 7 * 24 * 3600 * 1000

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
-- run's reply. A step that changed something keeps its reply under the id for a while
-- (changed = '1'); a re-run finds nothing left to do, and only then is the kept reply looked up,
-- so a first run pays one write and no read.
local function finish(verb)
  local reply = verb()
  if CALL.op ~= '' then
    local op_key = key('op:' .. CALL.op)
    if reply.changed == '1' then
      redis.call('SET', op_key, cjson.encode(reply), 'PX', CALL.op_ms)
    else
      local first = redis.call('GET', op_key)
      if first then
        reply = cjson.decode(first)
      end
    end
  end
  return cjson.encode({lost = str(LOST), node_count = str(NODE_COUNT), reply = reply})
end
