-- errors inside coroutines, and misuse of the library.
local co = coroutine.create(function(x)
  coroutine.yield(x)
  error("boom")
end)
print(coroutine.resume(co, 1))
print(coroutine.resume(co))
print(coroutine.status(co))
print(coroutine.resume(co))

local t = coroutine.create(function() error({1, 2, 3}) end)
local ok, e = coroutine.resume(t)
print(ok, type(e), #e)

local s = coroutine.create(function() error("string at level 0", 0) end)
print(coroutine.resume(s))

local rt = coroutine.create(function() local x = nil; return x + 1 end)
local ok2, e2 = coroutine.resume(rt)
print(ok2, type(e2), e2:match("^[^:]+:%d+:") ~= nil)

-- resuming a running coroutine (itself), and a normal one (the one that
-- resumed it)
local self
self = coroutine.create(function() return coroutine.resume(self) end)
print(coroutine.resume(self))
local outer
outer = coroutine.create(function()
  local inner = coroutine.create(function() return coroutine.resume(outer) end)
  return coroutine.resume(inner)
end)
print(coroutine.resume(outer))

-- the same through wrap: these raise
local wself
wself = coroutine.wrap(function() return pcall(wself) end)
print(wself())

-- yielding outside any coroutine
print(pcall(coroutine.yield, 1))
print(pcall(function() coroutine.yield(1) end))

-- arguments of the wrong type, called from Lua code
print(pcall(function() coroutine.resume(1) end))
print(pcall(function() coroutine.create(1) end))
print(pcall(function() coroutine.wrap(nil) end))
print(pcall(function() coroutine.status({}) end))
print(pcall(function() coroutine.close("x") end))

-- an error object that is a coroutine
local thrower = coroutine.create(function() error((coroutine.running())) end)
local ok3, e3 = coroutine.resume(thrower)
print(ok3, e3 == thrower)
