package luacoro_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/examples/luacoro"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"
)

// Coroutine bodies that resist being ended: each catches whatever comes
// out of its yield and goes on. Ending one must run none of their Lua code
// (ran and handled stay as they were) and must return; deferred is how
// many deferred calls of Go functions are pending on the suspended stack,
// which ending must run (Goroutine engine).
var resisting = []struct {
	name, body string
	deferred   int32
}{
	{"pcall", `while true do pcall(coroutine.yield); ran = ran + 1 end`, 0},
	{"nested_pcall", `while true do pcall(pcall, coroutine.yield); ran = ran + 1 end`, 0},
	{"xpcall", `while true do xpcall(coroutine.yield, function(e) handled = handled + 1; return e end); ran = ran + 1 end`, 0},
	{"go_recover", `while true do go_recover(coroutine.yield); ran = ran + 1 end`, 1},
	{"go_loop", `go_loop(function() coroutine.yield(); ran = ran + 1 end)`, 1},
}

// resistingState returns a Lua state with go_recover (calls its argument,
// recovering from any panic) and go_loop (calls it over and over, each time
// recovering), which count their deferred calls in deferred.
func resistingState(deferred *atomic.Int32, opts ...coro.Option) (*lua.LState, *luacoro.Library) {
	L := lua.NewState()
	lib := luacoro.Open(L, opts...)
	call := func(L *lua.LState, fn *lua.LFunction) {
		defer func() { recover() }()
		L.Call(0, 0)
	}
	L.SetGlobal("go_recover", L.NewFunction(func(L *lua.LState) int {
		defer deferred.Add(1)
		fn := L.CheckFunction(1)
		L.Push(fn)
		call(L, fn)
		return 0
	}))
	L.SetGlobal("go_loop", L.NewFunction(func(L *lua.LState) int {
		defer deferred.Add(1)
		fn := L.CheckFunction(1)
		for {
			L.Push(fn)
			call(L, fn)
		}
	}))
	return L, lib
}

// suspendResisting starts body as the global co and resumes it twice, so
// that its loop has gone round once.
func suspendResisting(L *lua.LState, body string) error {
	return L.DoString(`
		ran, handled = 0, 0
		co = coroutine.create(function() ` + body + ` end)
		assert(coroutine.resume(co))
		assert(coroutine.resume(co))
		assert(ran == 1 and coroutine.status(co) == "suspended", ran)`)
}

// Ending a coroutine runs no Lua code and finishes, whatever the body does
// with errors and recover: Library.Close, coroutine.close, and the
// collector's cleanup of a dropped coroutine. Each case runs in a child
// process, so that one that never returns is stopped.
func TestEndingRunsNoLua(t *testing.T) {
	endings := []struct {
		name string
		end  func(t *testing.T, L *lua.LState, lib *luacoro.Library)
	}{
		{"Library.Close", func(t *testing.T, L *lua.LState, lib *luacoro.Library) { lib.Close() }},
		{"coroutine.close", func(t *testing.T, L *lua.LState, lib *luacoro.Library) {
			require.NoError(t, L.DoString(`
				local ok, err = coroutine.close(co)
				assert(ok and err == nil, tostring(err))`))
		}},
		{"dropped", func(t *testing.T, L *lua.LState, lib *luacoro.Library) {
			require.NoError(t, L.DoString(`co = nil`))
			require.Zero(t, collectBodies())
		}},
	}
	for _, r := range resisting {
		for _, e := range endings {
			t.Run(r.name+"/"+e.name, func(t *testing.T) {
				if !isChild(t) {
					out, err := runChild(t, 2*time.Minute)
					require.NoError(t, err, "the child failed:\n%s", out)
					require.Contains(t, out, "--- PASS", out)
					return
				}
				var deferred atomic.Int32
				L, lib := resistingState(&deferred)
				defer L.Close()
				require.NoError(t, suspendResisting(L, r.body))
				before := deferred.Load()
				done := make(chan struct{})
				go func() {
					defer close(done)
					e.end(t, L, lib)
				}()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("ending the coroutine did not return")
				}
				assert.Equal(t, lua.LNumber(1), L.GetGlobal("ran"), "Lua code ran after the yield")
				assert.Equal(t, lua.LNumber(0), L.GetGlobal("handled"), "xpcall's handler ran")
				assert.Equal(t, r.deferred, deferred.Load()-before, "deferred Go calls that ran")
				assert.Zero(t, collectBodies(), "its goroutine is gone")
				if e.name != "dropped" {
					require.NoError(t, L.DoString(`assert(coroutine.status(co) == "dead")`))
				}
			})
		}
	}
}

// On the Raw engine ending discards the coroutine's stack: nothing on it
// runs, Lua or Go.
func TestEndingRawRunsNothing(t *testing.T) {
	for _, r := range resisting {
		t.Run(r.name, func(t *testing.T) {
			var deferred atomic.Int32
			var before, after int32
			var suspendErr, err error
			coro.Region(func() {
				L, lib := resistingState(&deferred, coro.WithEngine(coro.Raw))
				suspendErr = suspendResisting(L, r.body)
				before = deferred.Load()
				lib.Close()
				err = L.DoString(`assert(coroutine.status(co) == "dead" and ran == 1 and handled == 0)`)
				L.Close()
				after = deferred.Load()
			})
			// After the Region: FailNow inside one ends the process.
			require.NoError(t, suspendErr)
			require.NoError(t, err)
			assert.Equal(t, before, after)
		})
	}
}

// coroutine.close, as Lua 5.4 defines it, beyond what the differential
// tests compare: closing from inside, and the error of a coroutine that
// died.
func TestCloseErrors(t *testing.T) {
	L := newState(t)
	require.NoError(t, L.DoString(`
		local co
		co = coroutine.create(function()
			local ok, err = pcall(coroutine.close, co)
			coroutine.yield(ok, err)
		end)
		local _, ok, err = coroutine.resume(co)
		assert(not ok and err:find("cannot close a running coroutine"), err)
		assert(coroutine.close(co) and coroutine.status(co) == "dead")

		local bad = coroutine.create(function() error({code = 7}) end)
		assert(not coroutine.resume(bad))
		local ok, e = coroutine.close(bad)
		assert(not ok and e.code == 7)`))
	err := L.DoString(`coroutine.close(42)`)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "thread expected"), err.Error())
}

// A Go function's deferred call that runs Lua code while its coroutine is
// being ended finds the coroutine's threads without globals, and fails (an
// error, or a Go panic from inside gopher-lua); one that calls
// coroutine.yield's Go function directly gets nothing back and the
// coroutine is not suspended.
func TestEndingFailsLuaInDeferredCalls(t *testing.T) {
	for _, e := range []string{"Library.Close", "coroutine.close", "dropped"} {
		t.Run(e, func(t *testing.T) {
			// Written by the deferred call, on the coroutine's goroutine.
			var luaErr error
			yielded := -1
			deferredDone := make(chan struct{})
			L := lua.NewState()
			defer L.Close()
			lib := luacoro.Open(L)
			yield := L.GetField(L.GetGlobal("coroutine"), "yield").(*lua.LFunction)
			L.SetGlobal("go_defer", L.NewFunction(func(L *lua.LState) int {
				fn, cleanup := L.CheckFunction(1), L.CheckFunction(2)
				defer func() {
					defer close(deferredDone)
					yielded = yield.GFunction(L)
					// gopher-lua itself may panic on a thread without
					// globals, even in a protected call.
					defer func() {
						if p := recover(); p != nil {
							luaErr = fmt.Errorf("panic: %v", p)
						}
					}()
					luaErr = L.CallByParam(lua.P{Fn: cleanup, Protect: true})
				}()
				L.Push(fn)
				L.Call(0, 0)
				return 0
			}))
			require.NoError(t, L.DoString(`
				co = coroutine.create(function()
					go_defer(coroutine.yield, function() touched = true end)
				end)
				assert(coroutine.resume(co))`))
			switch e {
			case "Library.Close":
				lib.Close()
			case "coroutine.close":
				require.NoError(t, L.DoString(`assert(coroutine.close(co))`))
			case "dropped":
				require.NoError(t, L.DoString(`co = nil`))
			}
			require.Zero(t, collectBodies())
			select {
			case <-deferredDone:
			case <-time.After(10 * time.Second):
				t.Fatal("the deferred call did not run")
			}
			assert.Equal(t, lua.LNil, L.GetGlobal("touched"), "Lua code ran")
			assert.Error(t, luaErr)
			assert.Zero(t, yielded)
		})
	}
}
