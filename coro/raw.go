package coro

import (
	"errors"
	"runtime"

	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/gabi"
	"github.com/corokit/corokit/stackalloc"
)

// rawCoro is a Raw-engine coroutine's bookkeeping; its contexts are the
// handle's. Everything about it happens on one goroutine, inside one
// Region.
type rawCoro[In, Out any] struct {
	c       *Coro[In, Out]
	io      slots[In, Out]
	state   state // created, then finished, closed or discarded; ctx knows the rest
	started bool
	body    func(*Coro[In, Out], In) Out
	stack   stackalloc.Stack
	alloc   *stackalloc.Allocator
	region  *region
	index   int // in region.live
}

// newRaw makes a Raw coroutine in reg. New reports its error, a stack
// the allocator could not give, as a misuse.
func newRaw[In, Out any](body func(*Coro[In, Out], In) Out, cfg config, reg *region) (*Coro[In, Out], error) {
	reg.freeDead()
	s, err := cfg.alloc.Alloc(cfg.stackSize)
	if err != nil {
		return nil, err
	}
	c := &Coro[In, Out]{switchSelf: ctx.Switch, switchParent: ctx.Switch}
	r := &rawCoro[In, Out]{c: c, body: body, stack: s, alloc: cfg.alloc, region: reg}
	c.raw, c.io = r, &r.io
	c.self.Link = &c.parent // where the stack goes when the body returns
	ctx.Init(&c.self, s, r.run)
	reg.add(r)
	return c, nil
}

// run is the coroutine's entry function, on its own stack. When it
// returns, the trampoline switches to the parent for good.
func (r *rawCoro[In, Out]) run() {
	r.started = true
	c := r.c
	r.io.out = r.body(c, r.io.in)
	r.io.alive = false
	r.state = finished
	c.self.SetHook(resumeFinished)
	// This stack is still in use until the trampoline leaves it: the next
	// New or the Region's end frees it.
	r.region.dead = append(r.region.dead, r)
}

// The hooks of Raw coroutines that can no longer run. Resume calls them in
// place of its switch, so that they are the top frame above Resume in the
// trace of the misuse.
func resumeFinished()  { panic(gabi.Misuse("coro: Resume of a finished coroutine")) }
func resumeClosed()    { panic(gabi.Misuse("coro: Resume of a closed coroutine")) }
func resumeDiscarded() { panic(gabi.Misuse("coro: Resume of a Raw coroutine whose Region has ended")) }

// release frees the stack (no code may run on it any more) and makes
// Resume report why the coroutine cannot run.
func (r *rawCoro[In, Out]) release(st state, hook func()) {
	if r.state < finished {
		r.state = st
	}
	r.c.self.SetHook(hook)
	r.region.remove(r)
	r.alloc.Free(r.stack)
	r.stack = stackalloc.Stack{}
	// Let go of what the body reached: the handle may outlive the Region.
	var in In
	r.body, r.io.in = nil, in
}

func (r *rawCoro[In, Out]) free()    { r.release(finished, resumeFinished) }
func (r *rawCoro[In, Out]) discard() { r.release(discarded, resumeDiscarded) }

// running reports whether the body is on the goroutine's stack chain: it
// has started, not finished, and is not suspended.
func (r *rawCoro[In, Out]) running() bool {
	return r.state < finished && !r.c.self.Suspended()
}

func (r *rawCoro[In, Out]) close() error {
	switch {
	case r.state >= finished:
		return nil
	case r.running():
		return errors.New("coro: Close of a running coroutine")
	}
	// No unwinding: its deferred calls would need a panic, fatal here.
	r.release(closed, resumeClosed)
	return nil
}

// stackTrace walks the saved frame-pointer chain of a suspended coroutine,
// from the PC it resumes at up to the trampoline.
func (r *rawCoro[In, Out]) stackTrace() []runtime.Frame {
	if !r.started || r.state >= finished || !r.c.self.Suspended() {
		return nil
	}
	return trimFrames(framesOf(r.c.self.CallerPCs(1000)))
}

// state is a Raw coroutine's life cycle as rawCoro records it (whether it
// is suspended or running, its contexts say); from finished on, it is over.
type state uint8

const (
	created   state = iota // not finished (started or not)
	finished               // the body returned
	closed                 // closed before finishing
	discarded              // its Region ended while it was suspended
)
