-- Counting shared by observe.lua and apply.lua (Script.java adds it after common.lua where needed).

-- Puts into reply what the rules need to decide about product: the live sessions of each of
-- pools (in_use {pool: count}), the registered machines (machines) and which of the machines
-- asked about are registered (registered [ids]).
local function count_product(reply, product, pools, machines)
  local in_use = {}
  for _, pool in ipairs(pools) do
    in_use[pool] = str(redis.call('SCARD', key('ps:' .. product .. ':' .. pool)))
  end
  reply.in_use = in_use
  reply.machines = str(redis.call('HLEN', key('mc:' .. product)))
  local registered = {}
  for _, m in ipairs(machines) do
    if redis.call('HEXISTS', key('mc:' .. product), m) == 1 then
      registered[#registered + 1] = m
    end
  end
  reply.registered = registered
end
