-- coroutine.close (Lua 5.4): end suspended and dead coroutines.
local co = coroutine.create(function() coroutine.yield(1); print("never") end)
print(coroutine.resume(co))
print("close suspended", coroutine.close(co))
print(coroutine.status(co))
print(coroutine.resume(co))
print("close dead", coroutine.close(co))

local fresh = coroutine.create(function() print("never") end)
print("close unstarted", coroutine.close(fresh), coroutine.status(fresh))
print(coroutine.resume(fresh))

local finished = coroutine.create(function() return 1 end)
coroutine.resume(finished)
print("close finished", coroutine.close(finished))

local failed = coroutine.create(function() error("failed") end)
print(coroutine.resume(failed))
print("close failed", coroutine.close(failed))

local failedT = coroutine.create(function() error({why = "table"}) end)
coroutine.resume(failedT)
local ok, e = coroutine.close(failedT)
print("close failed with a table", ok, e.why)

-- running and normal coroutines cannot be closed
local self
self = coroutine.create(function()
  print("close running", pcall(function() coroutine.close(self) end))
  local inner = coroutine.create(function()
    print("close normal", pcall(function() coroutine.close(self) end))
  end)
  coroutine.resume(inner)
  return "ok"
end)
print(coroutine.resume(self))

-- a closed wrap generator is dead
local gen
gen = coroutine.wrap(function() coroutine.yield(coroutine.running()) end)
local th = gen()
print("close a wrap's thread", coroutine.close(th), coroutine.status(th))
print(pcall(function() local r = gen(); return r end))

-- closing from inside another coroutine
local victim = coroutine.create(function() coroutine.yield() end)
coroutine.resume(victim)
print(coroutine.resume(coroutine.create(function() return coroutine.close(victim) end)))
print(coroutine.status(victim))
