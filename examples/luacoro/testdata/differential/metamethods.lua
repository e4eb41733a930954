-- yields from metamethods that the VM calls (Lua 5.2 and later allow it).
local log = {}
local mt = {}
mt.__index = function(t, k) return coroutine.yield("index " .. k) end
mt.__newindex = function(t, k, v) coroutine.yield("newindex " .. k .. "=" .. v) end
mt.__add = function(a, b) return coroutine.yield("add") end
mt.__sub = function(a, b) return coroutine.yield("sub") end
mt.__mul = function(a, b) return coroutine.yield("mul") end
mt.__concat = function(a, b) return coroutine.yield("concat") end
mt.__unm = function(a) return coroutine.yield("unm") end
mt.__eq = function(a, b) return coroutine.yield("eq") end
mt.__lt = function(a, b) return coroutine.yield("lt") end
mt.__le = function(a, b) return coroutine.yield("le") end
mt.__call = function(self, x) return coroutine.yield("call " .. x) end
local a, b = setmetatable({}, mt), setmetatable({}, mt)

local co = coroutine.wrap(function()
  print("index ->", a.key)
  a.k = 5
  print("add ->", a + b)
  print("sub ->", a - 1)
  print("mul ->", 2 * a)
  print("concat ->", a .. "s")
  print("unm ->", -a)
  print("eq ->", a == b)
  print("lt ->", a < b)
  print("le ->", a <= b)
  print("call ->", a("x"))
  return "end"
end)
local answers = {index = "v", add = 3, sub = 4, mul = 6, concat = "cat", unm = -1, eq = true, lt = false, le = true}
local v = co()
while v ~= "end" do
  print("yielded", v)
  local kind = v:match("^(%a+)")
  local answer = answers[kind]
  if answer == nil then answer = kind end
  v = co(answer)
end

-- an __index chain: a metamethod that resumes another coroutine
local source = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i * 10) end end)
local lazy = setmetatable({}, {__index = function(t, k) return source() end})
print(lazy.a, lazy.b, lazy.c)
