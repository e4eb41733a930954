package coro

import (
	"errors"
	"iter"
	"runtime"
	"runtime/debug"

	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/gabi"
)

// goCoro is a Goroutine-engine coroutine. The body runs on the goroutine
// of an iter.Pull, and control passes between it and the resumer by the
// runtime's coroutine handoff: in assembly where it may (ctx.Handoff,
// whose resume and yield points are the handles' contexts), else through
// iter.Pull's own next and yield, which the contexts' hooks call. The
// handoff's turn is the coroutine's state (see the turn constants).
type goCoro[In, Out any] struct {
	h  ctx.Handoff
	io slots[In, Out]

	next  func() (struct{}, bool) // iter.Pull's: the fallback Resume
	stop  func()
	yield func(struct{}) bool // the fallback Yield, from iter.Pull, once the body runs
	// pull reaches iter.Pull's private flags, which the assembly handoff
	// does not maintain; pullOK is false when gabi could not verify them,
	// and then every switch goes through iter.Pull.
	pull   gabi.Pull
	pullOK bool

	goid           uint64      // the body's goroutine, once started
	returned       bool        // the body returned (else it panicked or called Goexit)
	goexited       bool        // the body called runtime.Goexit
	panicked       *PanicError // a panic in the body, for Resume or Close
	panicValues    bool        // Resume panics with panicked.Value (WithPanicValues)
	yieldedInClose bool
	closeErr       error
}

// A Goroutine-engine coroutine's turns (ctx.Handoff) beyond TurnSuspended
// (suspended in Yield, or not started: Body is 0) and the body's g
// (running; 0 between the first Resume and the body's start).
const (
	turnClosing  = 2 // Close is unwinding the body
	turnFinished = 3 // the body returned, panicked or called Goexit
	turnClosed   = 4 // closed before it finished
)

// The turns above must lie below ctx.MaxTurn (no g does) and differ from
// ctx.TurnSuspended: the array lengths are negative, a compile error, if
// not.
var (
	_ [ctx.MaxTurn - 1 - turnClosed]struct{}
	_ [turnClosing - ctx.TurnSuspended - 1]struct{}
)

// probePull is gabi.ProbePull; tests replace it to exercise the engine
// as it runs where iter.Pull's state cannot be verified.
var probePull = gabi.ProbePull

var errYieldedInClose = errors.New("coro: the body yielded again while Close unwound it")

// newGoroutine returns the user's handle. The body gets a second handle to
// the same coroutine: the body's goroutine keeps that one alive, not the
// user's, so that when the user's handle becomes unreachable a cleanup can
// close the coroutine and its goroutine exits.
func newGoroutine[In, Out any](body func(*Coro[In, Out], In) Out, cfg config) *Coro[In, Out] {
	ctx.EnableHandoff()
	gc := &goCoro[In, Out]{panicValues: cfg.panicValues, pullOK: probePull() == nil}
	outer, inner := gc.handle(), gc.handle()
	gc.next, gc.stop = iter.Pull(iter.Seq[struct{}](func(yield func(struct{}) bool) {
		gc.run(body, inner, yield)
	}))
	if gc.pullOK {
		gc.pull = gabi.PullOf(gc.next)
	}
	gc.h.Init(gc.pull.Coro, gc.afterResume, gc.afterYield)
	gc.h.SetSlow(cfg.runtimeSwitch)
	if gc.pullOK {
		for _, c := range [...]*Coro[In, Out]{outer, inner} {
			c.self.SetResumePoint(&gc.h)
			c.parent.SetYieldPoint(&gc.h)
		}
	}
	runtime.AddCleanup(outer, func(gc *goCoro[In, Out]) { gc.close() }, gc)
	return outer
}

// handle makes a Coro whose contexts are gc's handoff points, with hooks
// that switch through iter.Pull when the handoff leaves it to them.
//
// The hooks do their work in place rather than call a method: every frame
// between Resume's caller and the runtime's switch returns across
// goroutines, which the CPU mispredicts, and iter.Pull's next already adds
// one. (The compiler inlines nothing into the closures of a function that
// is itself inlined: hence noinline.)
//
//go:noinline
func (gc *goCoro[In, Out]) handle() *Coro[In, Out] {
	c := &Coro[In, Out]{gor: gc, io: &gc.io, switchSelf: ctx.SwitchToResumePoint, switchParent: ctx.SwitchToYieldPoint}
	c.self.SetHook(func() { // Resume, whatever the assembly leaves to it, misuse included
		if gc.h.Turn() != ctx.TurnSuspended {
			panic(gabi.Misuse("coro: Resume of a " + gc.state() + " coroutine"))
		}
		if ctx.InRegion() {
			gabi.Throw("coro: Resume of a Goroutine-engine coroutine inside a Region: the switch parks the pinned goroutine")
		}
		gc.h.SetTurn(gc.h.Body())
		if gc.pullOK {
			gc.pull.SetYieldNext(false) // the body is suspended, however it got there
		}
		gc.next()
		gc.afterResume()
	})
	c.parent.SetHook(func() { // Yield, likewise
		if gc.h.Turn() != uintptr(gabi.G()) {
			panic(gc.badYield())
		}
		gc.h.SetTurn(ctx.TurnSuspended)
		if gc.pullOK {
			gc.pull.SetYieldNext(true) // the body runs after a next, however it got there
		}
		gc.yield(struct{}{})
		gc.afterYield()
	})
	return c // newGoroutine makes its contexts gc.h's points, once gc.h has its coroutine
}

// run is the sequence iter.Pull runs on the body's goroutine.
func (gc *goCoro[In, Out]) run(body func(*Coro[In, Out], In) Out, inner *Coro[In, Out], yield func(struct{}) bool) {
	gc.yield = yield
	gc.h.Start()
	gc.goid = gabi.Goid(gabi.G())
	defer gc.bodyEnded()
	gc.io.out = body(inner, gc.io.in)
	gc.returned = true
}

// bodyEnded runs deferred on the body's goroutine, last; then iter.Pull
// ends the goroutine and the runtime hands control back to the resumer
// (or the closer).
func (gc *goCoro[In, Out]) bodyEnded() {
	p := recover()
	closing := gc.h.Turn() == turnClosing
	switch {
	case p != nil:
		gc.panicked = &PanicError{Value: p, Stack: debug.Stack()}
	case !gc.returned && !closing:
		gc.goexited = true // the body's own runtime.Goexit: it ends the resumer too
	}
	if closing {
		if gc.pullOK {
			// Close's runtime.Goexit (see unwind): iter.Pull would carry it
			// to the closer unless it learns that the sequence is done.
			gc.pull.SetSeqDone()
		}
		return
	}
	gc.h.SetTurn(turnFinished)
}

// afterResume finishes a Resume once the body has handed the turn back:
// nothing if it yielded, otherwise Resume's result, or the body's panic or
// runtime.Goexit carried to the resumer, as through iter.Pull. The
// handoff calls it in place of returning from Switch.
func (gc *goCoro[In, Out]) afterResume() {
	if gc.h.Turn() != turnFinished {
		return
	}
	gc.io.alive = false
	gc.release()
	if p := gc.panicked; p != nil {
		var zero Out
		gc.io.out, gc.panicked = zero, nil
		if gc.panicValues {
			panic(p.Value)
		}
		panic(p)
	}
	if gc.goexited {
		runtime.Goexit()
	}
}

// afterYield finishes a Yield once the body has the turn again: Close
// unwinds the body from here with runtime.Goexit, which runs its deferred
// calls and which no recover can stop. The handoff calls it in place of
// returning from Switch.
func (gc *goCoro[In, Out]) afterYield() {
	if gc.h.Turn() == turnClosing {
		runtime.Goexit()
	}
}

// release lets go of everything that reaches the body once its goroutine
// has ended: iter.Pull's functions and coroutine (whose closures hold the
// body and its captures) and the last value passed in. Until the user's
// handle is collected, the cleanup keeps gc alive, and with it whatever gc
// still points to: without this, all that the body reached would outlive
// it by at least a collection (docs/design.md, section 6).
func (gc *goCoro[In, Out]) release() {
	gc.h.Retire()
	gc.next, gc.stop, gc.yield, gc.pull = nil, nil, nil, gabi.Pull{}
	var in In
	gc.io.in = in
}

// badYield handles a Yield that cannot suspend: the body yielding again
// while Close unwinds it goes on unwinding; for a Yield from outside the
// body it returns the misuse for the hook to panic with, right above the
// user's Yield (see gabi.Misuse).
func (gc *goCoro[In, Out]) badYield() string {
	if gc.h.Turn() == turnClosing && uintptr(gabi.G()) == gc.h.Body() {
		gc.yieldedInClose = true
		runtime.Goexit()
	}
	return gabi.Misuse("coro: Yield outside the coroutine's body (the coroutine is " + gc.state() + ")")
}

// state names the coroutine's state for messages.
func (gc *goCoro[In, Out]) state() string {
	switch t := gc.h.Turn(); {
	case t == ctx.TurnSuspended && gc.h.Body() == 0:
		return "new"
	case t == ctx.TurnSuspended:
		return "suspended"
	case t == turnClosing:
		return "closing"
	case t == turnFinished:
		return "finished"
	case t == turnClosed:
		return "closed"
	}
	return "running"
}

func (gc *goCoro[In, Out]) done() bool {
	t := gc.h.Turn()
	return t == turnFinished || t == turnClosed
}

func (gc *goCoro[In, Out]) close() error {
	switch t := gc.h.Turn(); {
	case t == ctx.TurnSuspended && gc.h.Body() == 0:
		gc.h.SetTurn(turnClosed)
		gc.stop() // the body never runs; its goroutine exits
		gc.release()
		return nil
	case t == ctx.TurnSuspended:
		gc.h.SetTurn(turnClosing)
		gc.unwind()
		switch {
		case gc.panicked != nil:
			gc.closeErr, gc.panicked = gc.panicked, nil
		case gc.yieldedInClose:
			gc.closeErr = errYieldedInClose
		}
		gc.h.SetTurn(turnClosed)
		gc.release()
		return gc.closeErr
	case t == turnFinished || t == turnClosed:
		return gc.closeErr
	}
	return errors.New("coro: Close of a running coroutine")
}

// unwind resumes the body for Close: its pending Yield calls runtime.Goexit
// (afterYield), its deferred calls run, and its goroutine ends.
func (gc *goCoro[In, Out]) unwind() {
	if gc.pullOK {
		gc.pull.SetYieldNext(false) // the body is suspended, however it got there
		gc.next()                   // bodyEnded keeps iter.Pull from passing the Goexit on
		return
	}
	// Without iter.Pull's flags, the Goexit reaches whoever called next:
	// let that be a goroutine of its own.
	done := make(chan struct{})
	go func() {
		defer close(done)
		gc.next()
	}()
	<-done
}

func (gc *goCoro[In, Out]) stackTrace() []runtime.Frame {
	if gc.h.Turn() != ctx.TurnSuspended || gc.h.Body() == 0 {
		return nil
	}
	if ctx.InRegion() {
		gabi.Throw("coro: StackTrace of a Goroutine-engine coroutine inside a Region: reading another goroutine's stack stops the world")
	}
	return trimFrames(goroutineFrames(gc.goid))
}
