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

func newRaw[In, Out any](body func(*Coro[In, Out], In) Out, cfg config) *Coro[In, Out] {
	reg := currentRegion()
	if reg == nil {
		gabi.Misuse("coro: New with the Raw engine outside coro.Region: raw coroutines run only in a pinned region, " +
			"where the garbage collector cannot scan one stack of the goroutine while another is live")
	}
	reg.freeDead()
	s, err := cfg.alloc.Alloc(cfg.stackSize)
	if err != nil {
		gabi.Misuse("coro: no stack for a Raw coroutine: " + err.Error())
	}
	c := &Coro[In, Out]{}
	r := &rawCoro[In, Out]{c: c, body: body, stack: s, alloc: cfg.alloc, region: reg}
	c.raw, c.io = r, &r.io
	c.self.Link = &c.parent // where the stack goes when the body returns
	ctx.Init(&c.self, s, r.run)
	reg.add(r)
	return c
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

var (
	resumeFinished  = func() { gabi.Misuse("coro: Resume of a finished coroutine") }
	resumeClosed    = func() { gabi.Misuse("coro: Resume of a closed coroutine") }
	resumeDiscarded = func() { gabi.Misuse("coro: Resume of a Raw coroutine whose Region has ended") }
)

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
