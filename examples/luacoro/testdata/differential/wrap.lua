-- wrap: generators, arguments, errors as they come out, dead generators.
local gen = coroutine.wrap(function(a, b)
  print("args", a, b)
  local x = coroutine.yield(a + b)
  print("x", x)
  local y, z = coroutine.yield(x * 2)
  print("y z", y, z)
  return "end", y + z
end)
print(gen(1, 2))
print(gen(10))
print(gen(3, 4))
print(pcall(gen))

-- errors pass through as they are: a string with the position where it
-- was raised, no position at level 0, any value
print(pcall(coroutine.wrap(function() error("kaput") end)))
print(pcall(coroutine.wrap(function() error("no position", 0) end)))
local ok, e = pcall(coroutine.wrap(function() error({code = 42}) end))
print(ok, type(e), e.code)
ok, e = pcall(coroutine.wrap(function() coroutine.yield(1); error("after a yield") end))
print(ok, e)
local w = coroutine.wrap(function() coroutine.yield(1); error("second call") end)
print(w())
print(pcall(w))
print(pcall(w))

-- an error in a wrap inside a wrap keeps its first position
local outer = coroutine.wrap(function()
  local inner = coroutine.wrap(function() error("deep") end)
  inner()
end)
print(pcall(outer))

-- a generator used by a generic for, and as a for iterator that breaks
local function range(n)
  return coroutine.wrap(function()
    for i = 1, n do coroutine.yield(i, i * i) end
  end)
end
for i, sq in range(4) do print("range", i, sq) end
local function first(n)
  for i in range(n) do
    if i == 2 then return i end
  end
end
print("first", first(5))
local seen = 0
for i in range(10) do
  seen = seen + i
  if i == 3 then break end
end
print("seen", seen)

-- wrap of a wrap function: the same function, run as a coroutine body
local w2 = coroutine.wrap(coroutine.wrap(function() coroutine.yield("inner"); return "inner done" end))
print(w2())
print(pcall(w2))

-- called from a Lua function, the error gets that caller's position (Lua
-- 5.1 and 5.4 both), a dead generator's too; a number stays a number
local dead = coroutine.wrap(function() end)
dead()
print(pcall(function() local r = dead(); return r end))
print(pcall(function() local r = coroutine.wrap(function() error("from a Lua caller") end)(); return r end))
ok, e = pcall(function() local r = coroutine.wrap(function() error(42) end)(); return r end)
print(ok, type(e), e)
