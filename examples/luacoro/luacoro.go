// Package luacoro is a Lua coroutine library for gopher-lua
// (github.com/yuin/gopher-lua) in which every coroutine runs inside a
// corokit continuation, so coroutine.yield works from any depth: inside Go
// functions that called back into Lua, a table.sort comparator, a Go
// iterator. Stock gopher-lua, like C Lua, cannot yield across such a host
// frame.
//
//	L := lua.NewState()
//	luacoro.Open(L) // replaces the global coroutine table
//
// The library has Lua 5.1's functions (create, resume, yield, status, wrap,
// running) and 5.2's isyieldable, with gopher-lua's own error messages.
// resume returns true and the yielded or returned values, or false and the
// error message; an error inside a coroutine never crashes the host.
package luacoro

import (
	"github.com/corokit/corokit/continuation"
	"github.com/corokit/corokit/coro"
	lua "github.com/yuin/gopher-lua"
)

// A coroutine's life, as coroutine.status names it.
const (
	suspended = "suspended"
	running   = "running"
	normal    = "normal" // it resumed another coroutine
	dead      = "dead"
)

type coroutine struct {
	thread   *lua.LState
	fn       *lua.LFunction
	cont     *continuation.Continuation
	status   string
	transfer []lua.LValue // values passed by the latest resume or yield
	err      lua.LValue   // the error that killed it, if any
}

// Library is one installation of the library in a Lua state: its
// coroutines, and which one runs. It holds every coroutine until the
// coroutine finishes or Close ends it.
type Library struct {
	scope   *continuation.Scope
	opts    []coro.Option
	byState map[*lua.LState]*coroutine
	current *coroutine // nil: the main thread
}

// Open installs the library into L as the global "coroutine" (and as
// package.loaded.coroutine). opts select the coro engine of every coroutine:
// the Goroutine engine by default; with coro.Raw, Lua must run inside
// coro.Region, may not raise errors (they are Go panics, fatal there), and
// Close must end unfinished coroutines before the region ends.
func Open(L *lua.LState, opts ...coro.Option) *Library {
	l := &Library{scope: continuation.NewScope("lua coroutine"), opts: opts, byState: map[*lua.LState]*coroutine{}}
	mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"create":      l.create,
		"resume":      l.resume,
		"yield":       l.yield,
		"status":      l.status,
		"wrap":        l.wrap,
		"running":     l.running,
		"isyieldable": l.isyieldable,
	})
	L.SetGlobal("coroutine", mod)
	if loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable); ok {
		loaded.RawSetString("coroutine", mod)
	}
	return l
}

// Close ends every coroutine that has not finished: with the Goroutine
// engine their pending deferred Go calls run; Raw ones are discarded.
func (l *Library) Close() {
	for th, co := range l.byState {
		if co.status == suspended {
			co.cont.Close()
			co.status = dead
		}
		delete(l.byState, th)
	}
}

func (l *Library) create(L *lua.LState) int {
	fn := L.CheckFunction(1)
	L.Push(l.newCoroutine(L, fn).thread)
	return 1
}

func (l *Library) newCoroutine(L *lua.LState, fn *lua.LFunction) *coroutine {
	th, _ := L.NewThread()
	co := &coroutine{thread: th, fn: fn, status: suspended}
	co.cont = continuation.New(l.scope, func() { co.body() }, l.opts...)
	l.byState[th] = co
	return co
}

// body runs the Lua function on the coroutine's thread: its arguments are
// the first resume's values, its results the last resume's.
func (co *coroutine) body() {
	th := co.thread
	th.Push(co.fn)
	for _, v := range co.transfer {
		th.Push(v)
	}
	if err := th.PCall(len(co.transfer), lua.MultRet, nil); err != nil {
		if apiErr, ok := err.(*lua.ApiError); ok {
			co.err = apiErr.Object
		} else {
			co.err = lua.LString(err.Error())
		}
		co.transfer = nil
		return
	}
	co.transfer = popAll(th)
}

func popAll(L *lua.LState) []lua.LValue {
	n := L.GetTop()
	vs := make([]lua.LValue, n)
	for i := range vs {
		vs[i] = L.Get(i + 1)
	}
	L.Pop(n)
	return vs
}

// run resumes co with args and reports what it yielded or returned, or
// its error.
func (l *Library) run(co *coroutine, args []lua.LValue) (ok bool, values []lua.LValue, errMsg lua.LValue) {
	switch co.status {
	case dead:
		return false, nil, lua.LString("can not resume a dead thread")
	case running, normal:
		return false, nil, lua.LString("can not resume a running thread")
	}
	prev := l.current
	if prev != nil {
		prev.status = normal
	}
	l.current, co.status, co.transfer = co, running, args
	co.cont.Run() // until the body yields to the scope or ends
	l.current = prev
	if prev != nil {
		prev.status = running
	}
	if co.cont.IsDone() {
		co.status = dead
		delete(l.byState, co.thread)
		if co.err != nil {
			return false, nil, co.err
		}
	} else {
		co.status = suspended
	}
	values, co.transfer = co.transfer, nil
	return true, values, nil
}

func (l *Library) resume(L *lua.LState) int {
	co := l.byState[L.CheckThread(1)]
	if co == nil {
		L.Push(lua.LFalse)
		L.Push(lua.LString("can not resume a dead thread"))
		return 2
	}
	ok, values, errMsg := l.run(co, popAll(L)[1:])
	if !ok {
		L.Push(lua.LFalse)
		L.Push(errMsg)
		return 2
	}
	L.Push(lua.LTrue)
	for _, v := range values {
		L.Push(v)
	}
	return 1 + len(values)
}

// yield suspends the running coroutine, from whatever depth of Lua and Go
// calls: the continuation takes the whole stack along.
func (l *Library) yield(L *lua.LState) int {
	co := l.current
	if co == nil {
		L.RaiseError("attempt to yield from outside a coroutine")
		return 0
	}
	co.transfer = popAll(L)
	continuation.Yield(l.scope)
	values := co.transfer // the next resume's arguments
	co.transfer = nil
	for _, v := range values {
		L.Push(v)
	}
	return len(values)
}

func (l *Library) status(L *lua.LState) int {
	th := L.CheckThread(1)
	if co := l.byState[th]; co != nil {
		L.Push(lua.LString(co.status))
	} else {
		L.Push(lua.LString(dead))
	}
	return 1
}

func (l *Library) wrap(L *lua.LState) int {
	co := l.newCoroutine(L, L.CheckFunction(1))
	L.Push(L.NewFunction(func(L *lua.LState) int {
		ok, values, errMsg := l.run(co, popAll(L))
		if !ok {
			L.Error(errMsg, 1) // wrap re-raises
			return 0
		}
		for _, v := range values {
			L.Push(v)
		}
		return len(values)
	}))
	return 1
}

func (l *Library) running(L *lua.LState) int {
	if l.current == nil {
		L.Push(lua.LNil)
	} else {
		L.Push(l.current.thread)
	}
	return 1
}

func (l *Library) isyieldable(L *lua.LState) int {
	L.Push(lua.LBool(l.current != nil))
	return 1
}
