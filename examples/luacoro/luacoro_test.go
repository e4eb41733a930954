package luacoro_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/examples/luacoro"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"
)

// newState returns a Lua state with luacoro open, closed when t ends: the
// library's Close ends the coroutines a script leaves suspended, those
// that hold each other too, which the collector cannot end (see the
// package doc), so that no test leaves goroutines to the next (which
// count them, and would count them again under -count=2).
func newState(t testing.TB, opts ...coro.Option) *lua.LState {
	L := lua.NewState()
	lib := luacoro.Open(L, opts...)
	t.Cleanup(func() {
		lib.Close()
		L.Close()
	})
	return L
}

// callWithLuacoro opens luacoro in L on the Goroutine engine, or on the
// Raw engine inside a Region, calls fn for nret results, and closes the
// library, which ends the coroutines fn left suspended.
func callWithLuacoro(L *lua.LState, fn *lua.LFunction, nret int, raw bool) (err error) {
	call := func(opts ...coro.Option) {
		lib := luacoro.Open(L, opts...)
		defer lib.Close()
		L.Push(fn)
		err = L.PCall(0, nret, nil)
	}
	if raw {
		coro.Region(func() { call(coro.WithEngine(coro.Raw)) })
	} else {
		call()
	}
	return err
}

func TestSemantics(t *testing.T) {
	L := newState(t)
	require.NoError(t, L.DoString(`
		-- values both ways, status transitions
		local co = coroutine.create(function(a, b)
			assert(coroutine.status(coroutine.running()) == "running")
			assert(coroutine.isyieldable())
			local c = coroutine.yield(a + b)
			local d, e = coroutine.yield(c * 2)
			return d .. e
		end)
		assert(coroutine.status(co) == "suspended")
		local ok, v = coroutine.resume(co, 1, 2)
		assert(ok and v == 3)
		ok, v = coroutine.resume(co, 10)
		assert(ok and v == 20)
		ok, v = coroutine.resume(co, "x", "y")
		assert(ok and v == "xy")
		assert(coroutine.status(co) == "dead")
		ok, v = coroutine.resume(co)
		assert(not ok and string.find(v, "dead"))

		-- errors stay inside: resume returns false and the message
		local bad = coroutine.create(function() coroutine.yield(1); error("boom") end)
		assert(coroutine.resume(bad))
		ok, v = coroutine.resume(bad)
		assert(not ok and string.find(v, "boom"), v)
		assert(coroutine.status(bad) == "dead")

		-- "normal": a coroutine that resumed another
		local outer
		outer = coroutine.create(function()
			local inner = coroutine.create(function()
				assert(coroutine.status(outer) == "normal")
				coroutine.yield("in")
			end)
			local _, x = coroutine.resume(inner)
			coroutine.yield(x)
		end)
		ok, v = coroutine.resume(outer)
		assert(ok and v == "in")

		-- wrap returns values and re-raises errors
		local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
		assert(gen() == 1 and gen() == 2 and gen() == 3)
		local w = coroutine.wrap(function() error("wrapped") end)
		ok, v = pcall(w)
		assert(not ok and v == "<string>:44: wrapped", v) -- one position: where error was called

		-- the main thread
		assert(coroutine.running() == nil)
		assert(not coroutine.isyieldable())
		ok, v = pcall(coroutine.yield, 1)
		assert(not ok and string.find(v, "outside of a coroutine"), v)
	`))
}

// crossing is the script stock gopher-lua refuses: yields from inside a
// table.sort comparator and from a Go function's callback into Lua.
const crossing = `
	local log = {}
	local sorter = coroutine.wrap(function(t)
		table.sort(t, function(a, b)
			coroutine.yield("compare " .. a .. " " .. b) -- inside table.sort, a Go function
			return a < b
		end)
		return "sorted " .. table.concat(t, ",")
	end)
	local v = sorter({3, 1, 2})
	while not string.find(v, "^sorted") do
		log[#log + 1] = v
		v = sorter()
	end
	log[#log + 1] = v

	local walker = coroutine.wrap(function()
		go_each({"a", "b", "c"}, function(x)       -- a Go function calling back into Lua
			coroutine.yield("visit " .. x)
		end)
		return "walked"
	end)
	repeat v = walker(); log[#log + 1] = v until v == "walked"
	return table.concat(log, "; ")
`

// goEach calls its second argument (a Lua function) for each element of
// its first, from Go.
func goEach(L *lua.LState) int {
	t, fn := L.CheckTable(1), L.CheckFunction(2)
	t.ForEach(func(_, v lua.LValue) {
		if err := L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}, v); err != nil {
			L.RaiseError("%v", err)
		}
	})
	return 0
}

func TestYieldAcrossGoFrames(t *testing.T) {
	L := newState(t)
	L.SetGlobal("go_each", L.NewFunction(goEach))
	require.NoError(t, L.DoString(crossing))
	log := L.Get(-1).String()
	assert.Contains(t, log, "compare ")
	assert.True(t, strings.HasSuffix(log, "visit a; visit b; visit c; walked"), log)
	assert.Contains(t, log, "sorted 1,2,3")
}

func TestStockGopherLuaRefuses(t *testing.T) {
	L := lua.NewState() // gopher-lua's own coroutine library
	defer L.Close()
	L.SetGlobal("go_each", L.NewFunction(goEach))
	err := L.DoString(crossing)
	require.Error(t, err, "stock gopher-lua yielded across a Go frame after all")
	t.Logf("stock gopher-lua: %v", firstLine(err.Error()))
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// gopher-lua's own script tests, as its script_test.go runs them, with this
// library installed in place of its coroutine library.
func TestGopherLuaScripts(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/yuin/gopher-lua").Output()
	require.NoError(t, err, "locating the gopher-lua module")
	dir := strings.TrimSpace(string(out))
	suites := map[string][]string{
		"_glua-tests":   {"base.lua", "coroutine.lua", "db.lua", "issues.lua", "os.lua", "table.lua", "vm.lua", "math.lua", "strings.lua", "goto.lua"},
		"_lua5.1-tests": {"attrib.lua", "calls.lua", "closure.lua", "constructs.lua", "events.lua", "literals.lua", "locals.lua", "math.lua", "sort.lua", "strings.lua", "vararg.lua", "pm.lua", "files.lua"},
	}
	for suite, scripts := range suites {
		for _, script := range scripts {
			t.Run(suite+"/"+script, func(t *testing.T) {
				t.Chdir(filepath.Join(dir, suite))
				if script == "os.lua" {
					// It sets a variable in the process's environment that
					// it first asserts is unset.
					t.Cleanup(func() { os.Unsetenv("_____GLUATEST______") })
				}
				L := lua.NewState(lua.Options{RegistrySize: 1024 * 20, CallStackSize: 1024, IncludeGoStackTrace: true})
				defer L.Close()
				defer luacoro.Open(L).Close() // the suites leave coroutines that hold each other
				require.NoError(t, L.DoFile(script))
			})
		}
	}
}

// What luacoro allows and Lua 5.4 refuses: yields from inside Go functions
// (C functions in 5.4) that call back into Lua. Each script returns a log;
// each runs on both engines, but for those that raise a Lua error, which
// is a Go panic, fatal inside a Region.
func TestYieldAcrossGoFunctions(t *testing.T) {
	cases := []struct {
		name, script, want string
		raisesError        bool
	}{
		{"table.sort comparator", `
			local co = coroutine.wrap(function(t)
				assert(coroutine.isyieldable())
				table.sort(t, function(a, b)
					assert(coroutine.isyieldable())
					coroutine.yield()
					return a < b
				end)
				return table.concat(t, ",")
			end)
			local r, n = co({5, 3, 9, 1}), 0
			while r == nil do r, n = co(), n + 1 end
			return r .. " after " .. tostring(n > 0) .. " yields"`,
			"1,3,5,9 after true yields", false},
		{"string.gsub callback", `
			local co = coroutine.wrap(function(s)
				return (s:gsub("%a+", function(w) return coroutine.yield(w) end))
			end)
			local log = {co("one two three")}
			local v = log[1]
			while v ~= "ONE TWO THREE" do v = co(string.upper(v)); log[#log + 1] = v end
			return table.concat(log, "|")`,
			"one|two|three|ONE TWO THREE", false},
		{"a Go callback, protected and not", `
			local co = coroutine.wrap(function()
				go_each({"a", "b"}, function(x) coroutine.yield("protected " .. x) end)
				go_call(function() coroutine.yield("unprotected") end)
				return "done"
			end)
			return table.concat({co(), co(), co(), co()}, "|")`,
			"protected a|protected b|unprotected|done", false},
		{"__tostring and __index called from Go", `
			local obj = setmetatable({}, {
				__tostring = function() return coroutine.yield("in tostring") end,
				__index = function(t, k) return coroutine.yield("in index " .. k) end,
			})
			local co = coroutine.wrap(function()
				local s = tostring(obj)           -- gopher-lua calls __tostring from Go
				local v = go_field(obj, "key")    -- and __index from Go's GetField
				return s .. "+" .. v
			end)
			return table.concat({co(), co("S"), co("V")}, "|")`,
			"in tostring|in index key|S+V", false},
		{"xpcall's handler", `
			local co = coroutine.wrap(function()
				local ok, e = xpcall(function() error("e", 0) end, function(e)
					return coroutine.yield("handling " .. e)
				end)
				return tostring(ok) .. " " .. e
			end)
			return table.concat({co(), co("handled")}, "|")`,
			"handling e|false handled", true},
		{"an iterator function of a generic for", `
			local function iter(s, i)
				if i < 3 then coroutine.yield("step " .. i); return i + 1 end
			end
			local co = coroutine.wrap(function()
				local n = 0
				for i in iter, nil, 0 do n = n + i end
				return "sum " .. n
			end)
			return table.concat({co(), co(), co(), co()}, "|")`,
			"step 0|step 1|step 2|sum 6", false},
		{"a chain of 1,000 nested resumes", `
			local top = coroutine.wrap(function() while true do coroutine.yield("bottom") end end)
			for i = 1, 1000 do
				local inner = top
				top = coroutine.wrap(function() while true do coroutine.yield(inner()) end end)
			end
			return top() .. " " .. top()`,
			"bottom bottom", false},
		{"10,000 live coroutines", `
			local cos = {}
			for i = 1, 10000 do cos[i] = coroutine.wrap(function() coroutine.yield(i); return -i end) end
			local s = 0
			for i = 1, 10000 do s = s + cos[i]() end
			for i = 1, 10000 do s = s + cos[i]() end
			return "sum " .. s`,
			"sum 0", false},
	}
	for _, tc := range cases {
		for _, raw := range []bool{false, true} {
			if raw && tc.raisesError {
				continue
			}
			name := tc.name + "/goroutine"
			if raw {
				name = tc.name + "/raw"
			}
			t.Run(name, func(t *testing.T) {
				L := lua.NewState()
				defer L.Close()
				L.SetGlobal("go_each", L.NewFunction(goEach))
				L.SetGlobal("go_call", L.NewFunction(func(L *lua.LState) int {
					L.Call(L.GetTop()-1, 0)
					return 0
				}))
				L.SetGlobal("go_field", L.NewFunction(func(L *lua.LState) int {
					L.Push(L.GetField(L.Get(1), L.CheckString(2)))
					return 1
				}))
				fn, err := L.LoadString(tc.script)
				require.NoError(t, err)
				require.NoError(t, callWithLuacoro(L, fn, 1, raw))
				assert.Equal(t, tc.want, L.Get(-1).String())
			})
		}
	}
}

// debug.traceback, getfenv and setfenv take a coroutine for the thread its
// body runs on.
func TestDebugFunctionsTakeCoroutines(t *testing.T) {
	L := newState(t)
	require.NoError(t, L.DoString(`
		local function inner() coroutine.yield() end
		local co = coroutine.create(function() inner() end)
		coroutine.resume(co)
		tb = debug.traceback(co)
		local env = {}
		debug.setfenv(co, env)
		assert(debug.getfenv(co) == env)
		assert(debug.getfenv(coroutine.create(print)) == _G)`))
	tb := L.GetGlobal("tb").String()
	assert.Contains(t, tb, "function 'inner'")
}
