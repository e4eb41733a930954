-- status, running and isyieldable, through nested coroutines.
print("main yieldable", coroutine.isyieldable())
local a, b, c
a = coroutine.create(function()
  print("a running", coroutine.running() == a, coroutine.status(a), coroutine.isyieldable())
  b = coroutine.create(function()
    print("b sees a", coroutine.status(a), "b", coroutine.status(b))
    c = coroutine.wrap(function()
      print("c sees", coroutine.status(a), coroutine.status(b), coroutine.running() ~= b)
      print("c yieldable", coroutine.isyieldable())
      local me = coroutine.running()
      coroutine.yield(coroutine.status(me))
      print("c again", coroutine.status(a), coroutine.status(b), coroutine.status(me))
      return "c done"
    end)
    print("b got", c())
    coroutine.yield("b yields")
    print("b resumed", coroutine.status(a))
    print("b got", c())
    return "b done"
  end)
  print("a got", coroutine.resume(b))
  print("a sees b", coroutine.status(b))
  coroutine.yield("a yields")
  print("a got", coroutine.resume(b))
  print("a sees b", coroutine.status(b))
  return "a done"
end)
print("main sees a", coroutine.status(a))
print("main got", coroutine.resume(a))
print("main sees", coroutine.status(a), coroutine.status(b))
print("main got", coroutine.resume(a))
print("main sees", coroutine.status(a), coroutine.status(b))

-- the thread running() gives is the one create gave, in every coroutine
local threads = {}
for i = 1, 5 do
  threads[i] = coroutine.create(function() coroutine.yield(coroutine.running()) end)
end
for i = 1, 5 do
  local _, th = coroutine.resume(threads[i])
  print("same thread", i, th == threads[i], th ~= threads[(i % 5) + 1])
end

-- running() inside a wrap gives a thread that status accepts
local w = coroutine.wrap(function()
  local me = coroutine.running()
  print("wrap thread", type(me), coroutine.status(me))
  coroutine.yield(me)
end)
local me = w()
print("wrap thread from outside", type(me), coroutine.status(me))
print(pcall(coroutine.resume, me))
