-- create, resume, yield and status: values both ways, nil holes, varargs.
local function show(...)
  local t = {...}
  local n = select('#', ...)
  local parts = {}
  for i = 1, n do parts[#parts + 1] = tostring(t[i]) end
  print(n, table.concat(parts, " "))
end

local co = coroutine.create(function(...)
  show("start", ...)
  local a, b, c = coroutine.yield(1, nil, 3)
  show("got", a, b, c)
  show("got", coroutine.yield())
  show("got", coroutine.yield(nil))
  show("got", coroutine.yield(nil, nil))
  return "r1", nil, "r3"
end)
print(type(co), coroutine.status(co))
show(coroutine.resume(co, "x", nil, "z", nil))
print(coroutine.status(co))
show(coroutine.resume(co, nil, "b"))
show(coroutine.resume(co))
show(coroutine.resume(co, 1, 2, 3, 4, 5))
show(coroutine.resume(co, nil))
print(coroutine.status(co))
show(coroutine.resume(co))
show(coroutine.resume(co, "again"))

-- a coroutine that returns at once, and one with no arguments at all
show(coroutine.resume(coroutine.create(function() end)))
show(coroutine.resume(coroutine.create(function(...) return select('#', ...) end)))
show(coroutine.resume(coroutine.create(function(...) return ... end), 1, nil, nil))

-- a Lua function that is passed around: the same function, two coroutines
local function counter(n)
  for i = 1, n do coroutine.yield(i) end
  return "done"
end
local c1, c2 = coroutine.create(counter), coroutine.create(counter)
for i = 1, 4 do
  show("c1", coroutine.resume(c1, 3))
  show("c2", coroutine.resume(c2, 2))
end
print(coroutine.status(c1), coroutine.status(c2))

-- many values
local big = {}
for i = 1, 250 do big[i] = i end
local echo = coroutine.create(function(...)
  local args = {...}
  while true do args = {coroutine.yield(unpack_(args))} end
end)
unpack_ = table.unpack or unpack
local r = {coroutine.resume(echo, unpack_(big))}
print(#r, r[1], r[2], r[251])
r = {coroutine.resume(echo, unpack_(big, 1, 100))}
print(#r, r[101])

-- a coroutine as a table key and a value
local keys = {}
keys[co] = "co"
keys[c1] = "c1"
print(keys[co], keys[c1], co == co, co == c1)
print(tostring(co):match("^thread: ") ~= nil)
