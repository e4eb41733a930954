-- whole programs built on coroutines.

-- Programming in Lua's permutations generator
local function permgen(a, n)
  n = n or #a
  if n <= 1 then
    coroutine.yield(a)
  else
    for i = 1, n do
      a[n], a[i] = a[i], a[n]
      permgen(a, n - 1)
      a[n], a[i] = a[i], a[n]
    end
  end
end
local function permutations(a)
  return coroutine.wrap(function() permgen(a) end)
end
for p in permutations({"a", "b", "c"}) do print(table.concat(p, " ")) end

-- a producer, a filter and a consumer
local function producer(items)
  return coroutine.create(function()
    for _, x in ipairs(items) do coroutine.yield(x) end
  end)
end
local function filter(prod, keep)
  return coroutine.create(function()
    while true do
      local ok, x = coroutine.resume(prod)
      if x == nil then return end
      if keep(x) then coroutine.yield(x) end
    end
  end)
end
local chain = filter(filter(producer({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}),
  function(x) return x % 2 == 0 end), function(x) return x % 3 == 0 end)
while true do
  local ok, x = coroutine.resume(chain)
  if x == nil then break end
  print("kept", x)
end

-- a sieve of Eratosthenes as a chain of coroutines, one per prime
local function gen(n)
  return coroutine.wrap(function() for i = 2, n do coroutine.yield(i) end end)
end
local function sieve(p, g)
  return coroutine.wrap(function()
    for n in g do if n % p ~= 0 then coroutine.yield(n) end end
  end)
end
local primes = {}
local g = gen(200)
while true do
  local p = g()
  if p == nil then break end
  primes[#primes + 1] = p
  g = sieve(p, g)
end
print(#primes, primes[#primes])

-- a chain 190 deep: each coroutine resumes the next from inside itself
-- (Lua 5.4 refuses 200: "C stack overflow", its LUAI_MAXCCALLS)
local function chain(depth)
  if depth == 0 then
    return coroutine.create(function(x) while true do x = coroutine.yield(x + 1) end end)
  end
  local inner = chain(depth - 1)
  return coroutine.create(function(x)
    while true do
      local _, y = coroutine.resume(inner, x)
      x = coroutine.yield(y + 1)
    end
  end)
end
local top = chain(190)
print(coroutine.resume(top, 0))
print(coroutine.resume(top, 1000))

-- yields from deep recursion inside one coroutine
local function walk(tree)
  if type(tree) == "table" then
    for _, sub in ipairs(tree) do walk(sub) end
  else
    coroutine.yield(tree)
  end
end
local function deep(n) if n == 0 then return "leaf" end return {deep(n - 1), n} end
local count, last = 0, nil
for leaf in coroutine.wrap(function() walk(deep(150)) end) do count, last = count + 1, leaf end
print(count, last)

-- many live coroutines, resumed round robin
local live = {}
for i = 1, 2000 do
  live[i] = coroutine.create(function() local s = 0; while true do s = s + i; coroutine.yield(s) end end)
end
local total = 0
for round = 1, 3 do
  for i = 1, #live do
    local _, s = coroutine.resume(live[i])
    total = total + s
  end
end
print(total)
