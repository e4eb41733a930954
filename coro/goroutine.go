package coro

import (
	"errors"
	"iter"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"unsafe"

	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/gabi"
)

// goCoro is a Goroutine-engine coroutine: the body runs inside an iter.Seq
// driven by iter.Pull, whose next and stop switch goroutines with the
// runtime's coroutine handoff. The handles' contexts are hooks into
// resumeHook and yieldHook.
type goCoro[In, Out any] struct {
	state   atomic.Uint32 // a state; Resume claims the coroutine with a CAS
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

// handle makes a Coro whose contexts hook into gc.
func (gc *goCoro[In, Out]) handle() *Coro[In, Out] {
	c := &Coro[In, Out]{gor: gc}
	c.self.SetHook(func() { gc.resumeHook(c) })
	c.parent.SetHook(func() { gc.yieldHook(c) })
	return c
}

func (gc *goCoro[In, Out]) loadState() state { return state(gc.state.Load()) }

// recoverBody runs deferred in the body's goroutine.
func (gc *goCoro[In, Out]) recoverBody() {
	p := recover()
	if p == nil {
		return
	}
	if _, ok := p.(closeSignal); ok && gc.loadState() == closing {
		return // Close's unwinding reached the top
	}
	gc.panicked = &PanicError{Value: p, Stack: debug.Stack()}
}

// resumeHook is Resume: c.in holds the argument; it leaves the result in
// c.out and c.alive.
func (gc *goCoro[In, Out]) resumeHook(c *Coro[In, Out]) {
	if !gc.state.CompareAndSwap(uint32(suspended), uint32(running)) &&
		!gc.state.CompareAndSwap(uint32(created), uint32(running)) {
		misuse("coro: Resume of a " + gc.loadState().String() + " coroutine")
	}
	if ctx.InRegion() {
		gabi.Throw("coro: Resume of a Goroutine-engine coroutine inside a Region: the switch parks the pinned goroutine")
	}
	gc.in = c.in
	out, ok := gc.next()
	if ok {
		c.out, c.alive = out, true // yieldHook has set the state
		return
	}
	gc.state.Store(uint32(finished))
	if p := gc.panicked; p != nil {
		gc.panicked = nil
		var zero Out
		c.out, c.alive = zero, false
		panic(p)
	}
	c.out, c.alive = gc.result, false
}

// yieldHook is Yield: c.out holds the value; it leaves the next Resume's
// argument in c.in.
func (gc *goCoro[In, Out]) yieldHook(c *Coro[In, Out]) {
	switch st := gc.loadState(); {
	case st == closing && gabi.G() == gc.g:
		// The body recovered from Close's unwinding and yields again.
		gc.yieldedInClose = true
		panic(closeSignal{})
	case st != running || gabi.G() != gc.g:
		misuse("coro: Yield outside the coroutine's body (the coroutine is " + st.String() + ")")
	}
	gc.state.Store(uint32(suspended))
	if !gc.yieldFn(c.out) {
		panic(closeSignal{}) // Close called stop: unwind the body
	}
	c.in = gc.in // resumeHook set the state to running
}

func (gc *goCoro[In, Out]) close() error {
	for {
		switch st := gc.loadState(); st {
		case created:
			if !gc.state.CompareAndSwap(uint32(created), uint32(closed)) {
				continue
			}
			gc.stop() // the body never ran
			return nil
		case suspended:
			if !gc.state.CompareAndSwap(uint32(suspended), uint32(closing)) {
				continue
			}
			gc.stop() // the pending Yield sees false and unwinds the body
			switch {
			case gc.panicked != nil:
				gc.closeErr, gc.panicked = gc.panicked, nil
			case gc.yieldedInClose:
				gc.closeErr = errYieldedInClose
			}
			gc.state.Store(uint32(closed))
			return gc.closeErr
		case running, closing:
			return errors.New("coro: Close of a running coroutine")
		default:
			return gc.closeErr
		}
	}
}

func (gc *goCoro[In, Out]) stackTrace() []runtime.Frame {
	if gc.loadState() != suspended || gc.g == nil {
		return nil
	}
	return trimFrames(goroutineFrames(gc.goid))
}
