package luacoro_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/examples/luacoro"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"
)

// nesting are Lua functions nest(d) that go d levels deep through a kind
// of Go function that calls back into Lua, and return what go_sp returns
// at the bottom.
var nesting = map[string]string{
	"pcall":                        `local function nest(d) if d == 0 then return go_sp() end; local _, v = pcall(nest, d - 1); return v end; return nest`,
	"a Go callback":                `local function nest(d) if d == 0 then return go_sp() end; return go_call(nest, d - 1) end; return nest`,
	"a sort comparator":            `local function nest(d) if d == 0 then return go_sp() end; local v; table.sort({1, 2}, function(a, b) v = nest(d - 1); return a < b end); return v end; return nest`,
	"__tostring from Go":           `local function nest(d) if d == 0 then return go_sp() end; local v; tostring(setmetatable({}, {__tostring = function() v = nest(d - 1); return "" end})); return v end; return nest`,
	"a Lua function (no Go frame)": `local function nest(d) if d == 0 then return go_sp() end; local v = nest(d - 1); return v end; return nest`,
}

// rawNestingState is a Lua state for nesting, with the Raw engine and
// stackFactor times the default stack, whose call stack allows deep
// nesting.
func rawNestingState() (*lua.LState, *luacoro.Library) {
	L := lua.NewState(lua.Options{CallStackSize: 4096})
	L.SetGlobal("go_sp", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(stackPointer()))
		return 1
	}))
	L.SetGlobal("go_call", L.NewFunction(func(L *lua.LState) int {
		L.Call(L.GetTop()-1, 1)
		return 1
	}))
	return L, luacoro.Open(L, rawOpts()...)
}

// rawOpts are the Raw engine with stackFactor times the default stack.
func rawOpts() []coro.Option {
	return []coro.Option{coro.WithEngine(coro.Raw), coro.WithStackSize(stackFactor * luacoro.DefaultRawStackSize)}
}

// stackPointer is about where the stack pointer is: the address of a local.
//
//go:noinline
func stackPointer() uintptr {
	var local [8]byte
	return uintptr(unsafe.Pointer(&local))
}

// nestInCoroutine runs nest(depth) inside a Raw coroutine and returns how
// many bytes of its stack the nesting took.
func nestInCoroutine(t *testing.T, L *lua.LState, kind string, depth int) int {
	fn, err := L.LoadString(`local nest, d = ...
		return coroutine.wrap(function() local top = go_sp(); return top - nest(d) end)()`)
	require.NoError(t, err)
	nest, err := L.LoadString(nesting[kind])
	require.NoError(t, err)
	L.Push(fn)
	L.Push(nest)
	require.NoError(t, L.PCall(0, 1, nil)) // nest's chunk returns nest
	L.Push(lua.LNumber(depth))
	require.NoError(t, L.PCall(2, 1, nil))
	used := int(L.Get(-1).(lua.LNumber))
	L.Pop(1)
	return used
}

// The package documentation's figure: each nested level through a Go
// function that calls Lua takes at most 1.25 KiB of a Raw coroutine's
// stack, a Lua-to-Lua call none.
func TestRawStackPerLevel(t *testing.T) {
	const levels = 50
	for kind := range nesting {
		t.Run(strings.ReplaceAll(kind, " ", "_"), func(t *testing.T) {
			var used int
			coro.Region(func() {
				L, lib := rawNestingState()
				defer lib.Close()
				used = nestInCoroutine(t, L, kind, levels)
			})
			perLevel := float64(used) / levels
			t.Logf("%.0f bytes per level (%s)", perLevel, runtime.GOARCH)
			if strings.HasPrefix(kind, "a Lua function") {
				assert.Less(t, used, 256, "Lua-to-Lua calls grow the Go stack")
			} else {
				assert.LessOrEqual(t, perLevel, stackFactor*1.25*1024)
				assert.Positive(t, perLevel)
			}
		})
	}
}

// The documented depth limits, in child processes since an overflow ends
// the process: the default stack holds 150 nested levels of each kind and
// a greedy pattern item matching 1,000 characters; 400 levels, or 2,000
// characters, overflow it, with the runtime's fatal error. (Under the race
// detector, with stacks stackFactor times as large.)
func TestRawStackLimits(t *testing.T) {
	cases := []struct {
		name     string
		overflow bool
		run      func(t *testing.T)
	}{
		{"150_levels", false, func(t *testing.T) {
			for kind := range nesting {
				coro.Region(func() {
					L, lib := rawNestingState()
					defer lib.Close()
					nestInCoroutine(t, L, kind, 150)
				})
			}
		}},
		{"400_levels", true, func(t *testing.T) {
			coro.Region(func() {
				L, _ := rawNestingState()
				nestInCoroutine(t, L, "a sort comparator", 400)
			})
		}},
		{"greedy_match_of_1000", false, func(t *testing.T) { greedyMatch(t, 1000) }},
		{"greedy_match_of_2000", true, func(t *testing.T) { greedyMatch(t, 2000) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if isChild(t) {
				tc.run(t)
				fmt.Println("survived")
				return
			}
			out, err := runChild(t, 2*time.Minute)
			if !tc.overflow {
				require.NoError(t, err, "%s", out)
				require.Contains(t, out, "survived")
				return
			}
			require.Error(t, err, "the child survived:\n%s", out)
			assert.Contains(t, out, "fatal error: stack size not a power of 2")
		})
	}
}

// greedyMatch matches a greedy pattern item against n characters inside a
// Raw coroutine: gopher-lua's matcher recurses once per character.
func greedyMatch(t *testing.T, n int) {
	var err error
	coro.Region(func() {
		L := lua.NewState()
		lib := luacoro.Open(L, rawOpts()...)
		defer lib.Close()
		err = L.DoString(fmt.Sprintf(`
			local s = string.rep("x", %d)
			assert(coroutine.wrap(function() return #s:match("(.*)") end)() == #s)`, n))
	})
	require.NoError(t, err) // after the Region: FailNow inside one ends the process
}

// What gopher-lua does by default that a Region forbids: loading a file
// and its print make scheduler-visible system calls, fatal while a garbage
// collection runs. In child processes, with a collector loop beside them.
func TestRawRegionForbidsFilesAndPrint(t *testing.T) {
	// The child dies, so it cannot remove a temporary directory of its
	// own: the parent makes the script and names it in the environment.
	const scriptEnv = "LUACORO_SCRIPT"
	cases := map[string]string{
		"print":  `for i = 1, 20 do print(i) end`,
		"dofile": `for i = 1, 20 do dofile(os.getenv("` + scriptEnv + `")) end`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			if !isChild(t) {
				script := filepath.Join(t.TempDir(), "x.lua")
				require.NoError(t, os.WriteFile(script, []byte("x = (x or 0) + 1"), 0o644))
				out, err := runChild(t, 2*time.Minute, scriptEnv+"="+script)
				require.Error(t, err, "the child survived:\n%s", lastLines(out, 5))
				require.Contains(t, out, "fatal error: ")
				// The coroutine may print on while the runtime prints its
				// message (it runs on, on another thread, after a forbidden
				// system call), so the reason can come lines after "fatal
				// error: ".
				found := false
				for _, msg := range []string{"stopm holding locks", "traceback did not unwind completely", "schedule: holding locks"} {
					found = found || strings.Contains(out, msg)
				}
				assert.True(t, found, "%s", lastLines(out, 20))
				return
			}
			_, stop := gcLoop()
			defer stop()
			L := lua.NewState()
			for i := 0; i < 5000; i++ {
				coro.Region(func() {
					lib := luacoro.Open(L, coro.WithEngine(coro.Raw))
					defer lib.Close()
					require.NoError(t, L.DoString(`coroutine.wrap(function() `+body+` end)()`))
				})
			}
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
