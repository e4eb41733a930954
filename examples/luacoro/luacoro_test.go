package luacoro_test

import (
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

func newState(opts ...coro.Option) *lua.LState {
	L := lua.NewState()
	luacoro.Open(L, opts...)
	return L
}

func TestSemantics(t *testing.T) {
	L := newState()
	defer L.Close()
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
		assert(not ok and string.find(v, "wrapped"), v)

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
	L := newState()
	defer L.Close()
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
				L := lua.NewState(lua.Options{RegistrySize: 1024 * 20, CallStackSize: 1024, IncludeGoStackTrace: true})
				defer L.Close()
				luacoro.Open(L)
				require.NoError(t, L.DoFile(script))
			})
		}
	}
}

// The Raw engine runs pure Lua inside a Region.
func TestRawEngine(t *testing.T) {
	var err error
	var sum lua.LValue
	coro.Region(func() {
		L := lua.NewState()
		lib := luacoro.Open(L, coro.WithEngine(coro.Raw))
		defer lib.Close() // the generator is left suspended: end it before the Region does
		err = L.DoString(`
			local gen = coroutine.wrap(function() for i = 1, 100 do coroutine.yield(i) end end)
			local s = 0
			for i = 1, 100 do s = s + gen() end
			return s`)
		sum = L.Get(-1)
		L.Close()
	})
	require.NoError(t, err)
	assert.Equal(t, lua.LNumber(5050), sum)
}
