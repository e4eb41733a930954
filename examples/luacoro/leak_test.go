package luacoro_test

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/corokit/corokit/examples/luacoro"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"
)

// bodies counts the goroutines of coroutines (Goroutine engine) in every
// test's Lua states, by their stacks: those running a body, and those not
// yet resumed, which wait at the runtime's coroutine entry (coro makes its
// goroutines with iter.Pull). The process-wide goroutine count is no exact
// measure, since other tests' goroutines come and go.
func bodies() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			dump := string(buf[:n])
			return strings.Count(dump, "luacoro.(*coroutine).run(") + strings.Count(dump, "\nruntime.corostart()")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// collectBodies runs the collector until no body goroutine is left, for at
// most a minute (a few cycles natively; under qemu-user a collection of
// an earlier test's thousands of coroutines takes seconds), and returns
// how many are left. The runtime closes an unreachable coroutine in a
// cleanup after the cycle that found it unreachable.
func collectBodies() int {
	deadline := time.Now().Add(time.Minute)
	for bodies() > 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	return bodies()
}

// TestMain checks, once every test has passed, that none left a
// coroutine's goroutine behind: each test ends what it makes (tests that
// count bodies would otherwise count an earlier test's, as under
// -count=2).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && os.Getenv(childEnv) == "" {
		if n := collectBodies(); n > 0 {
			fmt.Fprintf(os.Stderr, "luacoro's tests left %d coroutine goroutines that the collector cannot end (a test that leaves coroutines holding each other must close its Library)\n", n)
			code = 1
		}
	}
	os.Exit(code)
}

// The scripts of issue 13, and the cases around them: each leaves
// coroutines suspended and unreachable from Lua.
var dropped = []struct {
	name, script string
	// How many coroutines the script leaves suspended. The collector is
	// off while it runs, so that they are all there to count, except for
	// the first script, whose collectgarbage() may end them all.
	suspended int
}{
	{"create and resume", `
		for i = 1, 1000 do
			local co = coroutine.create(function() coroutine.yield() end)
			coroutine.resume(co)
		end
		collectgarbage()`, 0},
	{"create and resume, without collectgarbage", `
		for i = 1, 1000 do
			local co = coroutine.create(function() coroutine.yield() end)
			coroutine.resume(co)
		end`, 1000},
	{"created, never resumed", `
		for i = 1, 100 do coroutine.create(function() end) end
		for i = 1, 100 do coroutine.wrap(function() end) end`, 200},
	{"wrap in a for loop, with break", `
		local function gen() for i = 1, 10 do coroutine.yield(i) end end
		local function first()
			for v in coroutine.wrap(gen) do break end
		end
		for i = 1, 1000 do first() end`, 1000},
	// gopher-lua keeps the function that a call frame ran in its call-frame
	// array after the call returns, until a call at the same depth replaces
	// it: here the wrap function stays there, so the main thread (through
	// the globals that every thread shares) must not be reachable from the
	// suspended body, or each would keep the other alive for good.
	{"a wrap function left in the main thread's call frames", `
		local function gen() for i = 1, 10 do coroutine.yield(i) end end
		local n = 0
		for v in coroutine.wrap(gen) do n = n + v; break end`, 1},
	{"nested: suspended while another it resumed is suspended", `
		for i = 1, 100 do
			local outer = coroutine.wrap(function()
				local inner = coroutine.wrap(function() coroutine.yield(1); coroutine.yield(2) end)
				inner()
				coroutine.yield(inner)
				coroutine.yield()
			end)
			outer()
		end`, 200},
	{"suspended inside pcall and a Go callback", `
		for i = 1, 100 do
			local co = coroutine.create(function()
				pcall(function()
					table.sort({3, 2, 1}, function(a, b) coroutine.yield(); return a < b end)
				end)
			end)
			coroutine.resume(co)
		end`, 100},
}

func TestDroppedCoroutinesEnd(t *testing.T) {
	for _, tc := range dropped {
		for _, closeL := range []bool{false, true} {
			name := tc.name + "/dropped"
			if closeL {
				name = tc.name + "/L.Close"
			}
			t.Run(name, func(t *testing.T) {
				require.Zero(t, collectBodies(), "left over from an earlier case")
				func() {
					L := lua.NewState()
					luacoro.Open(L)
					gc := debug.SetGCPercent(-1)
					err := L.DoString(tc.script)
					left := bodies()
					debug.SetGCPercent(gc) // which may start a collection at once
					require.NoError(t, err)
					if tc.suspended > 0 {
						require.Equal(t, tc.suspended, left, "suspended by the script")
					}
					if closeL {
						L.Close()
					}
				}()
				assert.Zero(t, collectBodies(), "coroutines left behind")
			})
		}
	}
}

// A coroutine whose own suspended stack leads back to it (its thread in a
// local, its wrap function as an upvalue, a cycle through another
// suspended coroutine) cannot end by itself: the parked goroutine is a
// root for the collector, as the package documentation says.
// Library.Close ends it.
func TestSelfReferencingCoroutineEndsWithClose(t *testing.T) {
	require.Zero(t, collectBodies(), "an earlier test left coroutines that never ended")
	L := lua.NewState()
	defer L.Close()
	lib := luacoro.Open(L)
	require.NoError(t, L.DoString(`
		local co = coroutine.create(function()
			local me = coroutine.running()
			coroutine.yield()
		end)
		coroutine.resume(co)
		local a, b
		a = coroutine.wrap(function() while true do coroutine.yield(b) end end)
		b = coroutine.wrap(function() while true do coroutine.yield(a) end end)
		a() b()
		local w
		w = coroutine.wrap(function() coroutine.yield(w) end)
		w()`))
	for i := 0; i < 20; i++ { // enough for the cases of TestDroppedCoroutinesEnd
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	assert.Equal(t, 4, bodies(), "they keep themselves alive")
	lib.Close()
	assert.Zero(t, collectBodies())
}
