package coro

import (
	"errors"
	"iter"
	"runtime"
	"runtime/debug"
	"unsafe"

	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/gabi"
)

// goCoro is a Goroutine-engine coroutine: the body runs inside an iter.Seq
// driven by iter.Pull, whose next and stop switch goroutines with the
// runtime's coroutine handoff. The handles' contexts are hooks that run
// the engine (see handle).
type goCoro[In, Out any] struct {
	state   state // owned by whoever runs the coroutine; a Coro is not for concurrent use
	next    func() (Out, bool)
	stop    func()
	yieldFn func(Out) bool // iter.Pull's yield, valid inside the body

	in     In // the latest Resume's argument, handed across goroutines
	result Out
	g      unsafe.Pointer // the coroutine's goroutine, once started
	goid   uint64

	panicked       *PanicError // a panic in the body, for Resume or Close
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
func newGoroutine[In, Out any](body func(*Coro[In, Out], In) Out) *Coro[In, Out] {
	gc := &goCoro[In, Out]{}
	outer, inner := gc.handle(), gc.handle()
	gc.next, gc.stop = iter.Pull(func(yield func(Out) bool) {
		gc.yieldFn = yield
		gc.g = gabi.G()
		gc.goid = gabi.Goid(gc.g)
		defer gc.recoverBody()
		gc.result = body(inner, gc.in)
	})
	runtime.AddCleanup(outer, func(gc *goCoro[In, Out]) { gc.close() }, gc)
	return outer
}

// handle makes a Coro whose contexts hook into gc. The hooks are the engine
// itself, not calls to it: every call level between the user's code and the
// runtime's switch adds a return that the CPU predicts from the other
// goroutine's calls, and mispredicts.
func (gc *goCoro[In, Out]) handle() *Coro[In, Out] {
	c := &Coro[In, Out]{gor: gc}
	c.self.SetHook(func() { // Resume: c.in holds the argument
		if st := gc.state; st != suspended && st != created {
			misuse("coro: Resume of a " + st.String() + " coroutine")
		}
		gc.state = running
		if ctx.InRegion() {
			gabi.Throw("coro: Resume of a Goroutine-engine coroutine inside a Region: the switch parks the pinned goroutine")
		}
		gc.in = c.in
		out, ok := gc.next()
		if !ok {
			gc.finished(c)
			return
		}
		c.out, c.alive = out, true // the yield hook has set the state
	})
	c.parent.SetHook(func() { // Yield: c.out holds the value
		if st := gc.state; st != running || gabi.G() != gc.g {
			gc.badYield(st)
		}
		gc.state = suspended
		if !gc.yieldFn(c.out) {
			panic(closeSignal{}) // Close called stop: unwind the body
		}
		c.in = gc.in // the resume hook has set the state to running
	})
	return c
}

// recoverBody runs deferred in the body's goroutine.
func (gc *goCoro[In, Out]) recoverBody() {
	p := recover()
	if p == nil {
		return
	}
	if _, ok := p.(closeSignal); ok && gc.state == closing {
		return // Close's unwinding reached the top
	}
	gc.panicked = &PanicError{Value: p, Stack: debug.Stack()}
}

// finished is Resume's end when the body has returned or panicked.
func (gc *goCoro[In, Out]) finished(c *Coro[In, Out]) {
	gc.state = finished
	var zero Out
	c.out, c.alive = zero, false
	if p := gc.panicked; p != nil {
		gc.panicked = nil
		panic(p)
	}
	c.out = gc.result
}

// badYield handles a Yield that cannot suspend: the body yielding again
// while Close unwinds it, or a Yield from outside the body.
func (gc *goCoro[In, Out]) badYield(st state) {
	if st == closing && gabi.G() == gc.g {
		gc.yieldedInClose = true
		panic(closeSignal{})
	}
	misuse("coro: Yield outside the coroutine's body (the coroutine is " + st.String() + ")")
}

func (gc *goCoro[In, Out]) close() error {
	for {
		switch st := gc.state; st {
		case created:
			gc.state = closed
			gc.stop() // the body never ran
			return nil
		case suspended:
			gc.state = closing
			gc.stop() // the pending Yield sees false and unwinds the body
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
	return trimFrames(goroutineFrames(gc.goid))
}
