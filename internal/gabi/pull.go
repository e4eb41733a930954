//go:build linux && (amd64 || arm64)

package gabi

import (
	"iter"
	"strconv"
	"sync/atomic"
	"unsafe"
)

// Words of the closure that iter.Pull[struct{}] returns as next, after its
// code pointer: {fn, &pull, c, dict} on Go 1.26 and 1.27 (the compiler's
// closure layout, not a type the offsets generator can see). ProbeHandoff
// checks them before anything relies on them.
const (
	iterNextPullWord = 1 // &pull: iter.Pull's private state
	iterNextCoroWord = 2 // c: the *runtime.coro both goroutines switch through
)

// A Pull is what corokit needs of an iter.Pull[struct{}] pair beyond its
// next and stop functions: the runtime coroutine they switch through and
// two of iter's private flags, which a switch made without next or yield
// does not maintain.
type Pull struct {
	Coro  unsafe.Pointer // *runtime.coro
	state unsafe.Pointer // iter.Pull's pull struct
}

// PullOf returns the Pull behind a next function made by iter.Pull. Use it
// only after ProbeHandoff has succeeded: the layout is checked there.
func PullOf(next func() (struct{}, bool)) Pull {
	w := closureWords(next)
	return Pull{Coro: pointerAt(w[iterNextCoroWord]), state: pointerAt(w[iterNextPullWord])}
}

// SetYieldNext sets iter's yieldNext flag: true while the body runs after
// a next, false while it is suspended. Set it before calling next (false)
// or the body's yield (true): iter panics if it disagrees.
func (p Pull) SetYieldNext(v bool) { *(*bool)(unsafe.Add(p.state, IterPullYieldNext)) = v }

// SetSeqDone sets iter's seqDone flag, which tells iter that the sequence
// returned: set by a body that ends in a runtime.Goexit of its owner's
// making, so that iter does not carry that Goexit to the goroutine that
// resumed it.
func (p Pull) SetSeqDone() { *(*bool)(unsafe.Add(p.state, IterPullSeqDone)) = true }

// flags returns iter's done, yieldNext and seqDone flags.
func (p Pull) flags() (done, yieldNext, seqDone bool) {
	b := func(off uintptr) bool { return *(*bool)(unsafe.Add(p.state, off)) }
	return b(IterPullDone), b(IterPullYieldNext), b(IterPullSeqDone)
}

// closureWords returns the first words of a func value's closure record.
func closureWords(fn func() (struct{}, bool)) *[4]uintptr {
	return *(**[4]uintptr)(unsafe.Pointer(&fn))
}

// pointerAt turns an address that something else keeps alive back into a
// pointer (checkptr does not know that it is kept alive).
func pointerAt(a uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&a)) }

// probePull checks, on a real iter.Pull, everything PullOf and the handoff
// rely on: that the closure words are the coroutine and iter's state, that
// the coroutine's gp is the goroutine blocked in it (waiting, for a
// coroutine, with no thread lock recorded), and that iter's flags sit where
// the offsets say. It returns next, for the code search that follows, and
// a description of the first mismatch.
func probePull() (next func() (struct{}, bool), fail string) {
	type result struct {
		next func() (struct{}, bool)
		fail string
	}
	done := make(chan result)
	go func() { // a fresh goroutine, not locked to its thread
		var (
			p      Pull
			body   unsafe.Pointer
			inBody [3]bool // iter's flags as the body sees them after next
		)
		next, stop := iter.Pull(iter.Seq[struct{}](func(yield func(struct{}) bool) {
			body = G()
			inBody[0], inBody[1], inBody[2] = p.flags()
			for yield(struct{}{}) {
			}
		}))
		p = PullOf(next)
		fail := checkPull(p, next, stop, &body, &inBody)
		done <- result{next, fail}
	}()
	r := <-done
	return r.next, r.fail
}

func checkPull(p Pull, next func() (struct{}, bool), stop func(), body *unsafe.Pointer, inBody *[3]bool) string {
	gp := func() unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Add(p.Coro, OffCoroGP)) }
	waiting := func(g unsafe.Pointer) bool {
		return status(g) == Gwaiting && *(*uint8)(unsafe.Add(g, OffWaitReason)) == WaitReasonCoroutine
	}
	if g := gp(); g == nil || !waiting(g) {
		return "the coroutine of a new iter.Pull is not a goroutine waiting in a coroutine (closure word " +
			strconv.Itoa(iterNextCoroWord) + ", coro.gp, g.atomicstatus or g.waitreason)"
	}
	next()
	switch {
	case gp() != *body || !waiting(*body):
		return "after next, coro.gp is not the body's goroutine waiting in a coroutine"
	case *(*uintptr)(unsafe.Add(p.Coro, OffCoroMP)) != 0:
		return "coro.mp is set for a coroutine made by a goroutine with no thread lock"
	case *inBody != [3]bool{false, true, false}:
		return "iter.Pull's flags (done, yieldNext, seqDone) are not false, true, false while the body runs (closure word " +
			strconv.Itoa(iterNextPullWord) + " or the pull struct's offsets)"
	}
	if d, y, s := p.flags(); d || y || s {
		return "iter.Pull's flags are not all false while the body is suspended"
	}
	stop()
	if d, y, s := p.flags(); !d || y || !s {
		return "iter.Pull's flags done and seqDone are not set after stop"
	}
	if gp() != nil {
		return "coro.gp is not cleared when the coroutine's goroutine exits"
	}
	return ""
}

// status is g.atomicstatus, read atomically.
func status(g unsafe.Pointer) uint32 {
	return atomic.LoadUint32((*uint32)(unsafe.Add(g, OffAtomicStatus)))
}
