package luacoro

import (
	"context"
	"fmt"
	"weak"

	"github.com/corokit/corokit/continuation"
	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/ctx"
	lua "github.com/yuin/gopher-lua"
)

// status is a coroutine's life, as coroutine.status names it.
type status uint8

const (
	suspended status = iota
	running
	normal // it resumed another coroutine
	dead
)

func (s status) String() string { return [...]string{"suspended", "running", "normal", "dead"}[s] }

// gopher-lua's messages, and Lua 5.4's for close, which gopher-lua lacks.
const (
	errDead        = "can not resume a dead thread"
	errRunning     = "can not resume a running thread"
	errOutside     = "can not yield from outside of a coroutine"
	errCloseFormat = "cannot close a %s coroutine"
)

// coroutine is the state that the body and the Lua thread value share.
//
// The body's goroutine (Goroutine engine) is a garbage-collector root while
// it is parked in a yield, so everything reachable from its frames stays
// alive: this record, the body thread and what their fields point to. So
// nothing here may lead to the thread value, its handle or the
// Continuation, nor to the resumer's LState (through which gopher-lua's
// leftover call frames may reach them), except while the coroutine runs,
// when its resumer holds all of those anyway. That is what lets a dropped
// coroutine's handle become unreachable and corokit end it.
type coroutine struct {
	lib    *Library
	body   *lua.LState    // the thread the Lua function runs on
	fn     *lua.LFunction // until the first resume
	status status
	n      int        // how many values the latest resume, yield or return moved
	err    lua.LValue // what killed it, if an error did

	// While it runs: the LState of the pending resume, which its yields and
	// results go to, and the thread value, for coroutine.running.
	resumer *lua.LState
	thread  *lua.LState
	// While it is suspended: the LState whose yield is pending, which the
	// next resume's values go to (the body thread, or one that Go code
	// running inside the coroutine made).
	yielder *lua.LState
}

// handle is what a coroutine's thread value holds, and the only holder of
// its Continuation: when the thread value (and any wrap function) becomes
// unreachable, so do the handle and the Continuation, and corokit closes
// the Continuation, ending the body's goroutine. It is the thread's
// context.Context (the thread never runs code, so its context is free to
// carry it); the embedded Context answers the interface's methods.
type handle struct {
	context.Context
	co     *coroutine
	cont   *continuation.Continuation
	thread *lua.LState
}

// Library is one installation of the library in a Lua state: its
// coroutines, and which one runs.
type Library struct {
	scope   *continuation.Scope
	opts    []coro.Option
	current *coroutine // nil: the main thread
	step    lua.LGFunction

	// The coroutines that may be unfinished, for Close. Those made outside
	// a Region (the Goroutine engine's) through weak pointers, so that the
	// list keeps none alive; it is pruned when it has doubled. Those made
	// inside one (the Raw engine's) strongly, until they finish: a weak
	// pointer's Value may wait for the collector, which inside a Region is
	// a fatal error, and Raw coroutines cannot outlive their Region anyway.
	live    []weak.Pointer[handle]
	pruneAt int
	pinned  map[*handle]struct{}
}

// Open installs the library into L as the global "coroutine" (and as
// package.loaded.coroutine), and makes debug.traceback, debug.getfenv and
// debug.setfenv, given a coroutine, act on the thread its body runs on.
// opts select the coro engine of every coroutine: the Goroutine engine by
// default. With coro.Raw, every coroutine gets a stack of
// DefaultRawStackSize unless opts say otherwise (coro.WithStackSize), and
// Lua must run inside coro.Region under the rules in the package
// documentation.
func Open(L *lua.LState, opts ...coro.Option) *Library {
	l := &Library{scope: continuation.NewScope("lua coroutine"), pinned: map[*handle]struct{}{}}
	l.opts = append([]coro.Option{coro.WithStackSize(DefaultRawStackSize)}, opts...)
	l.step = l.stepFunc()
	mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"create":      l.create,
		"resume":      l.step,
		"yield":       l.yieldFunc(),
		"status":      l.status,
		"wrap":        l.wrap,
		"running":     l.running,
		"isyieldable": l.isyieldable,
		"close":       l.close,
	})
	L.SetGlobal("coroutine", mod)
	if loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable); ok {
		loaded.RawSetString("coroutine", mod)
	}
	// gopher-lua's debug functions that take a thread: a coroutine's
	// thread value stands for its body thread there.
	if debug, ok := L.GetGlobal("debug").(*lua.LTable); ok {
		for _, name := range []string{"traceback", "getfenv", "setfenv"} {
			if fn, ok := debug.RawGetString(name).(*lua.LFunction); ok && fn.IsG {
				debug.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
					if th, ok := L.Get(1).(*lua.LState); ok {
						if h := l.handleOf(th); h != nil {
							L.Replace(1, h.co.body)
						}
					}
					return fn.GFunction(L)
				}))
			}
		}
	}
	return l
}

// Close ends every coroutine that is suspended (started or not), as
// coroutine.close does, running no Lua code: with the Goroutine engine the
// pending deferred calls of Go functions inside them run; Raw ones are
// discarded. Coroutines that are running are left alone, and inside a
// Region so are the Goroutine engine's. The library stays usable.
func (l *Library) Close() {
	for h := range l.pinned {
		h.end()
	}
	if ctx.InRegion() {
		return // the Goroutine engine's cannot be ended here, nor looked up
	}
	for _, w := range l.live {
		if h := w.Value(); h != nil {
			h.end()
		}
	}
	l.live, l.pruneAt = nil, 0
}

// remember adds h to the coroutines Close ends.
func (l *Library) remember(h *handle) {
	if ctx.InRegion() {
		l.pinned[h] = struct{}{}
		return
	}
	if len(l.live) >= l.pruneAt {
		kept := l.live[:0]
		for _, w := range l.live {
			if h := w.Value(); h != nil && h.co.status != dead {
				kept = append(kept, w)
			}
		}
		clear(l.live[len(kept):])
		l.live = kept
		l.pruneAt = 2*len(kept) + 64
	}
	l.live = append(l.live, weak.Make(h))
}

func (l *Library) create(L *lua.LState) int {
	L.Push(l.newCoroutine(L, L.CheckFunction(1)).thread)
	return 1
}

func (l *Library) newCoroutine(L *lua.LState, fn *lua.LFunction) *handle {
	body, _ := L.NewThread()
	body.G = nil // see coroutine; step sets it
	co := &coroutine{lib: l, body: body, fn: fn, status: suspended}
	h := &handle{Context: context.Background(), co: co, thread: new(lua.LState)}
	h.thread.SetContext(h)
	h.cont = continuation.New(l.scope, co.run, l.opts...)
	l.remember(h)
	return h
}

// handleOf returns the handle of one of l's coroutines' threads, or nil.
func (l *Library) handleOf(th *lua.LState) *handle {
	if h, ok := th.Context().(*handle); ok && h.co.lib == l {
		return h
	}
	return nil
}

// run is the body: it calls the Lua function on the body thread with the
// first resume's values, and hands its results to the last resume.
func (co *coroutine) run() {
	body := co.body
	err := body.PCall(co.n, lua.MultRet, nil)
	co.status = dead
	if err != nil {
		if apiErr, ok := err.(*lua.ApiError); ok {
			co.err = apiErr.Object
		} else {
			co.err = lua.LString(err.Error())
		}
		co.n = 0
		return
	}
	co.n = body.GetTop()
	body.XMoveTo(co.resumer, co.n)
}

// refusal is the message for resuming h's coroutine, or "" if it can be.
func refusal(h *handle) string {
	switch {
	case h == nil || h.co.status == dead:
		return errDead
	case h.co.status != suspended:
		return errRunning
	}
	return ""
}

// stepFunc returns coroutine.resume, which is also every wrap function,
// with the coroutine's thread value as its upvalue: the function that
// gopher-lua calls is the one that switches to the coroutine, with no
// frame in between, since after a switch every return to a frame that the
// other side did not call costs a mispredicted branch (docs/design.md).
// It returns a closure, not a method value, whose wrapper would be such a
// frame; noinline, since the compiler inlines nothing into the closures of
// a function that is itself inlined.
//
// It moves the top values of L to the coroutine (the arguments of its
// function, or the results of its pending yield), runs it until it yields
// or returns, and returns what it yielded or returned, which the coroutine
// moved onto L: after true for resume. If the coroutine cannot be resumed
// or dies in error, resume returns false and the message, and a wrap
// function raises it.
//
//go:noinline
func (l *Library) stepFunc() lua.LGFunction {
	return func(L *lua.LState) int {
		th, wrapped := L.Get(lua.UpvalueIndex(1)).(*lua.LState)
		if !wrapped {
			th = L.CheckThread(1)
		}
		h := l.handleOf(th)
		if msg := refusal(h); msg != "" {
			return fail(L, wrapped, lua.LString(msg))
		}
		nargs, results := L.GetTop(), 0
		if !wrapped {
			L.Replace(1, lua.LTrue) // the thread's slot holds the first result
			nargs, results = nargs-1, 1
		}
		co := h.co
		co.body.G = L.G
		if co.fn != nil { // the first resume: the values are the function's arguments
			co.body.Push(co.fn)
			co.fn = nil
			L.XMoveTo(co.body, nargs)
		} else {
			co.yielder.G = L.G
			L.XMoveTo(co.yielder, nargs)
			co.yielder = nil
		}
		co.n = nargs
		prev := l.current
		if prev != nil {
			prev.status = normal
		}
		l.current, co.status = co, running
		co.resumer, co.thread = L, h.thread
		h.cont.Run() // until the body yields (which makes it suspended) or returns
		co.resumer, co.thread = nil, nil
		l.current = prev
		if prev != nil {
			prev.status = running
		}
		if co.status == dead {
			co.body.G = nil
			delete(l.pinned, h)
			if co.err != nil {
				if !wrapped {
					L.Pop(1) // true
				}
				return fail(L, wrapped, co.err)
			}
		}
		return results + co.n
	}
}

// fail is what resume (false and err) and a wrap function (err raised)
// make of an error.
func fail(L *lua.LState, wrapped bool, err lua.LValue) int {
	if wrapped {
		raiseFromWrap(L, err)
	}
	L.Push(lua.LFalse)
	L.Push(err)
	return 2
}

func (l *Library) wrap(L *lua.LState) int {
	h := l.newCoroutine(L, L.CheckFunction(1))
	L.Push(L.NewClosure(l.step, h.thread))
	return 1
}

// raiseFromWrap raises err from a wrap function as Lua 5.1 and 5.4 do: a
// string error gets the position of the wrap function's caller in front,
// if that caller is a Lua function (as luaL_where(L, 1) gives it), and any
// other value is raised as it is. (Stock gopher-lua adds no position to an
// error from the coroutine, and the nearest Lua function's position, past
// Go functions such as pcall, to its own messages.)
func raiseFromWrap(L *lua.LState, err lua.LValue) {
	if msg, ok := err.(lua.LString); ok {
		if dbg, ok := L.GetStack(1); ok {
			if _, e := L.GetInfo("Sl", dbg, lua.LNil); e == nil && dbg.What != "G" && dbg.CurrentLine >= 0 {
				err = lua.LString(fmt.Sprintf("%s:%d: %s", dbg.Source, dbg.CurrentLine, msg))
			}
		}
	}
	L.Error(err, 0)
}

// yieldFunc returns coroutine.yield, which suspends the running coroutine
// from whatever depth of Lua and Go calls: the continuation takes the
// whole stack along. (A closure, and noinline: see stepFunc.)
//
//go:noinline
func (l *Library) yieldFunc() lua.LGFunction {
	return func(L *lua.LState) int {
		if L.G == nil {
			// The coroutine is being ended (step and yield take the globals
			// away from a suspended coroutine's threads): a Go function's
			// deferred call ran Lua code, which yields. Ending runs no Lua
			// code of the library's: leave both stacks alone and do not
			// suspend.
			return 0
		}
		co := l.current
		if co == nil {
			L.Error(lua.LString(errOutside), 0) // without a position, as in Lua 5.1 and 5.4
		}
		co.n = L.GetTop()
		L.XMoveTo(co.resumer, co.n)
		co.yielder, co.status = L, suspended
		// Let go of the globals, through which the main thread and its call
		// frames are reachable: see coroutine.
		L.G, co.body.G = nil, nil
		continuation.Yield(l.scope)
		return co.n // the resume's values, which step pushed on L
	}
}

// status reports a thread that is none of l's coroutines as dead.
func (l *Library) status(L *lua.LState) int {
	if h := l.handleOf(L.CheckThread(1)); h != nil {
		L.Push(lua.LString(h.co.status.String()))
	} else {
		L.Push(lua.LString(dead.String()))
	}
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

// close is Lua 5.4's coroutine.close: it ends a suspended coroutine,
// running no Lua code, and returns true, or false and the error that killed
// the coroutine (or that ending it raised).
func (l *Library) close(L *lua.LState) int {
	h := l.handleOf(L.CheckThread(1))
	if h == nil {
		L.Push(lua.LTrue)
		return 1
	}
	if st := h.co.status; st == running || st == normal {
		L.RaiseError(errCloseFormat, st)
	}
	if err := h.end(); err != nil {
		L.Push(lua.LFalse)
		L.Push(err)
		return 2
	}
	L.Push(lua.LTrue)
	return 1
}

// end ends h's coroutine if it is suspended, and returns the error that
// killed it, if any. Its threads have no globals meanwhile (see yieldFunc), so
// Lua code that a Go function's deferred call runs fails rather than run.
func (h *handle) end() lua.LValue {
	co := h.co
	if co.status == suspended {
		co.status = dead
		if err := h.cont.Close(); err != nil {
			co.err = lua.LString(err.Error())
		}
		delete(co.lib.pinned, h)
	}
	return co.err
}
