package coro

import (
	"iter"

	"github.com/corokit/corokit/internal/gabi"
)

// Pull is iter.Pull with an engine choice: it turns a push iterator into a
// next/stop pair. With the Goroutine engine (the default) it is iter.Pull
// itself. With Raw it runs seq on a Raw coroutine, and must be used inside
// a Region like any Raw coroutine; stop resumes seq with yield returning
// false, so a well-behaved seq returns and its deferred calls run. A seq
// that calls yield again after it returned false is a fatal error there.
func Pull[T any](seq iter.Seq[T], opts ...Option) (next func() (T, bool), stop func()) {
	if configure(opts).engine == Goroutine {
		return iter.Pull(seq)
	}
	var zero T
	stopping, stopped := false, false
	c := New(func(c *Coro[struct{}, T], _ struct{}) T {
		seq(func(v T) bool {
			if stopping {
				panic(gabi.Misuse("coro.Pull: the sequence called yield again after it returned false"))
			}
			c.Yield(v)
			return !stopping
		})
		return zero
	}, opts...)
	next = func() (T, bool) {
		if stopped || c.Done() {
			return zero, false
		}
		v, alive := c.Resume(struct{}{})
		if !alive {
			stopped = true
			return zero, false
		}
		return v, true
	}
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		if !c.raw.started {
			c.Close()
			return
		}
		stopping = true
		if _, alive := c.Resume(struct{}{}); alive {
			panic(gabi.Misuse("coro.Pull: the sequence kept going after yield returned false"))
		}
	}
	return next, stop
}
