package coro

import (
	"errors"
	"runtime"
	"runtime/debug"
	"unsafe"

	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/gabi"
)

// goCoro is a Goroutine-engine coroutine: the body runs on a goroutine of
// its own, and control passes between it and the resumer by the runtime's
// coroutine handoff (gabi.CoroSwitch, what iter.Pull is built on). The
// handles' contexts are hooks that run the engine (see handle).
type goCoro[In, Out any] struct {
	state state // owned by whoever runs the coroutine; a Coro is not for concurrent use
	rc    *gabi.Coro

	in     In  // the latest Resume's argument, handed across goroutines
	out    Out // the latest Yield's value
	result Out
	g      unsafe.Pointer // the coroutine's goroutine, once started
	goid   uint64

	returned       bool        // the body returned (else it panicked or called Goexit)
	panicked       *PanicError // a panic in the body, for Resume or Close
	panicValues    bool        // Resume panics with panicked.Value (WithPanicValues)
	yieldedInClose bool
	closeErr       error
}

// closeSignal is what a Yield panics with while Close unwinds the body.
type closeSignal struct{}

var errYieldedInClose = errors.New("coro: the body recovered from Close's unwinding and yielded again")

// newGoroutine returns the user's handle. The body gets a second handle to
// the same coroutine: the body's goroutine keeps that one alive, not the
// user's, so that when the user's handle becomes unreachable a cleanup can
// close the coroutine and its goroutine exits.
func newGoroutine[In, Out any](body func(*Coro[In, Out], In) Out, cfg config) *Coro[In, Out] {
	gc := &goCoro[In, Out]{panicValues: cfg.panicValues}
	outer, inner := gc.handle(), gc.handle()
	gc.rc = gabi.NewCoro(func(*gabi.Coro) {
		gabi.RaceAcquire(unsafe.Pointer(gc))
		if gc.state == closed {
			return // closed before it started
		}
		gc.g = gabi.G()
		gc.goid = gabi.Goid(gc.g)
		defer gc.bodyEnded()
		gc.result = body(inner, gc.in)
		gc.returned = true
	})
	runtime.AddCleanup(outer, func(gc *goCoro[In, Out]) { gc.close() }, gc)
	return outer
}

// handle makes a Coro whose contexts hook into gc. The hooks are the engine
// itself, not calls to it: every call level between the user's code and the
// runtime's switch adds a return that the CPU predicts from the other
// goroutine's calls, and mispredicts. So the calls in the hooks must be
// inlined, and the compiler inlines nothing into the closures of a
// function that is itself inlined: hence noinline.
//
//go:noinline
func (gc *goCoro[In, Out]) handle() *Coro[In, Out] {
	c := &Coro[In, Out]{gor: gc}
	c.self.SetHook(func() { // Resume: c.in holds the argument
		if st := gc.state; st != suspended && st != created {
			panic(gabi.Misuse("coro: Resume of a " + st.String() + " coroutine"))
		}
		if ctx.InRegion() {
			gabi.Throw("coro: Resume of a Goroutine-engine coroutine inside a Region: the switch parks the pinned goroutine")
		}
		gc.state = running
		gc.in = c.in
		gc.switchTo()
		if gc.state != suspended {
			gc.finished(c)
			return
		}
		c.out, c.alive = gc.out, true
	})
	c.parent.SetHook(func() { // Yield: c.out holds the value
		if st := gc.state; st != running || gabi.G() != gc.g {
			panic(gc.badYield(st))
		}
		gc.out = c.out
		gc.state = suspended
		gc.switchTo()
		if gc.state == closing {
			panic(closeSignal{}) // unwind the body
		}
		c.in = gc.in
	})
	return c
}

// switchTo hands control to the other side and returns when it hands it
// back, telling the race detector that the two sides take turns.
func (gc *goCoro[In, Out]) switchTo() {
	gabi.RaceRelease(unsafe.Pointer(gc))
	gabi.CoroSwitch(gc.rc)
	gabi.RaceAcquire(unsafe.Pointer(gc))
}

// bodyEnded runs deferred in the body's goroutine, last: the runtime then
// ends the goroutine and hands control back to the resumer (or closer).
func (gc *goCoro[In, Out]) bodyEnded() {
	p := recover()
	if _, ok := p.(closeSignal); ok && gc.state == closing {
		p = nil // Close's unwinding reached the top
	} else if p != nil {
		gc.panicked = &PanicError{Value: p, Stack: debug.Stack()}
	}
	if gc.state != closing {
		gc.state = finished
	}
	gabi.RaceRelease(unsafe.Pointer(gc))
}

// finished is Resume's end when the body has returned, panicked or called
// runtime.Goexit, which ends the resumer's goroutine too, as with iter.Pull.
func (gc *goCoro[In, Out]) finished(c *Coro[In, Out]) {
	var zero Out
	c.out, c.alive = zero, false
	if p := gc.panicked; p != nil {
		gc.panicked = nil
		if gc.panicValues {
			panic(p.Value)
		}
		panic(p)
	}
	if !gc.returned {
		runtime.Goexit()
	}
	c.out = gc.result
}

// badYield returns what a Yield that cannot suspend panics with, in the
// hook, right above the user's Yield: Close's unwinding again for a body
// that yields while Close unwinds it, or the misuse of a Yield from
// outside the body.
func (gc *goCoro[In, Out]) badYield(st state) any {
	if st == closing && gabi.G() == gc.g {
		gc.yieldedInClose = true
		return closeSignal{}
	}
	return gabi.Misuse("coro: Yield outside the coroutine's body (the coroutine is " + st.String() + ")")
}

func (gc *goCoro[In, Out]) close() error {
	for {
		switch st := gc.state; st {
		case created:
			gc.state = closed
			gc.switchTo() // the body never runs; its goroutine exits
			return nil
		case suspended:
			gc.state = closing
			gc.switchTo() // the pending Yield panics with closeSignal, unwinding the body
			switch {
			case gc.panicked != nil:
				gc.closeErr, gc.panicked = gc.panicked, nil
			case gc.yieldedInClose:
				gc.closeErr = errYieldedInClose
			}
			gc.state = closed
			return gc.closeErr
		case running, closing:
			return errors.New("coro: Close of a running coroutine")
		default:
			return gc.closeErr
		}
	}
}

func (gc *goCoro[In, Out]) stackTrace() []runtime.Frame {
	if gc.state != suspended || gc.g == nil {
		return nil
	}
	if ctx.InRegion() {
		gabi.Throw("coro: StackTrace of a Goroutine-engine coroutine inside a Region: reading another goroutine's stack stops the world")
	}
	return trimFrames(goroutineFrames(gc.goid))
}
