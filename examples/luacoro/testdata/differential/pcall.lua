-- yields across pcall and xpcall (Lua 5.2 and later allow it; gopher-lua
-- with its own library does not), with errors before and after.
local co = coroutine.create(function()
  local ok, v = pcall(function()
    local x = coroutine.yield("in pcall")
    return x * 2
  end)
  print("pcall returned", ok, v)
  ok, v = pcall(function()
    coroutine.yield("before the error")
    error("inside pcall")
  end)
  print("pcall caught", ok, v)
  ok, v = xpcall(function()
    coroutine.yield("in xpcall")
    error({tag = "t"})
  end, function(e) return "handled " .. e.tag end)
  print("xpcall", ok, v)
  ok, v = pcall(pcall, function() coroutine.yield("nested") return "deep" end)
  print("nested pcall", ok, v)
  return "finished"
end)
print(coroutine.resume(co))
print(coroutine.resume(co, 21))
print(coroutine.resume(co))
print(coroutine.resume(co))
print(coroutine.resume(co))
print(coroutine.resume(co))
print(coroutine.status(co))

-- a loop of yields inside pcall, ended by close
local loop = coroutine.create(function()
  local n = 0
  while true do
    local ok = pcall(function() n = n + 1; coroutine.yield(n) end)
    if not ok then return "error" end
  end
end)
for i = 1, 3 do print(coroutine.resume(loop)) end
print(coroutine.close(loop), coroutine.status(loop))

-- an error that escapes pcall's function inside a wrap after yields
local gen = coroutine.wrap(function()
  for i = 1, 2 do
    print("attempt", i, pcall(function()
      coroutine.yield(i)
      if i == 2 then error("second", 0) end
      return "fine"
    end))
  end
  error("last", 0)
end)
print(gen())
print(gen())
print(pcall(gen))
