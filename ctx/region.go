package ctx

import (
	"runtime"
	"time"
	"unsafe"

	"github.com/corokit/corokit/internal/gabi"
)

// RegionStackBudget is the stack the goroutine that enters a region may use
// inside it, below the point where it entered. The runtime cannot grow a
// goroutine's stack inside a region, so Region grows it by this much
// first. Going beyond it ends the process with "fatal error: traceback did
// not unwind completely".
const RegionStackBudget = 64 << 10

// Region runs fn pinned to its thread, the only state in which a goroutine
// may run code on more than one stack (docs/design.md, section 4):
//
//   - The goroutine cannot be preempted, so the garbage collector cannot
//     suspend it to scan its stack: it never sees one stack of two. The GC
//     waits instead, and so does every stop-the-world: keep regions short.
//     A collection already marking when Region is called gets the
//     processor first, for up to a millisecond, so that it need not wait
//     for the region with its write barrier on.
//   - A precise unwind of the goroutine's stack that happens anyway (the GC
//     scanning a goroutine that entered a system call, a stack copy)
//     throws "traceback did not unwind completely" instead of scanning
//     part of its stacks in silence.
//
// Inside a region, on any stack, Go code must not park (channel waits,
// contended locks, time.Sleep, runtime.GC, ...: "schedule: holding
// locks"), and so must not call code that may take a lock, however rarely
// it waits: sync.Pool takes a global mutex on its first use after each
// garbage collection, so fmt, encoding/json, log and the like end in
// "schedule: holding locks" now and then, under load. Nor may it stop the
// world (runtime.ReadMemStats: "stopTheWorld: holding locks"), panic
// ("panic holding locks", even if it would be recovered), or make
// scheduler-visible system calls (os file I/O: "stopm holding locks" or
// the unwind error above).
//
// When the runtime notices one of these, the process ends with the fatal
// error quoted. It does not always notice (a lock that happens to be free,
// or a system call made while no collection runs, may pass without an
// error), so a test run that survives proves little; and a scheduler-visible system call may
// hand the goroutine to another thread, on which fn runs on for a while
// after the fatal error has begun. Package coro's documentation lists the
// rest of what a region forbids.
//
// A nested Region (fn calling Region again, on any stack) just runs its
// function: the outer region already holds the pin.
//
// Region checks at its end that the goroutine is still on the thread that
// entered it. A scheduler-visible system call inside the region can let the
// scheduler move it to another thread while the old one is already dying
// with "stopm holding locks"; the region's code may then run on, unpinned,
// until something stops it. Region's end then throws "ctx: the goroutine
// left its thread inside a Region".
func Region(fn func()) {
	// Growing the stack copies it, which needs a precise unwind, which the
	// sentinel in g.stktopsp makes fatal: hence RegionStackBudget.
	g := gabi.G()
	top := gabi.StkTopSP(g)
	if *top == regionTopSP {
		fn()
		return
	}
	r := enter(g)
	fn()
	r.leave(g)
}

// regionGCWait is how long Region yields the processor, at most, to a
// garbage collection that is marking when the region would begin.
//
// A collection that is marking needs every goroutine's stack scanned, and
// then a stop of the world, to finish; a pinned goroutine allows neither,
// so the collection would wait for the region to end, and with it the
// write barrier that makes every pointer write slower stays on. Yielding
// instead lets the collector's workers run, on this processor too, and
// scan this goroutine while it waits to run again: luacoro's Raw benchmark
// measured mark phases of 15-53 ms without the wait and under 2 ms with it
// (docs/design.md, section 4). The wait is bounded because a large heap
// may take longer to mark than a region lasts.
const regionGCWait = time.Millisecond

// region is what Region checks and restores at its end.
type region struct {
	thread uintptr // g.m at the start
	lo     uintptr // g.stack.lo: fn must return on the goroutine's own stack
	topSP  uintptr // g.stktopsp before the sentinel
}

// enter pins the goroutine, makes room on its stack and stores the
// sentinel.
func enter(g unsafe.Pointer) region {
	letCollectionFinish(gabi.GCMarking, regionGCWait)
	gabi.ProcPin()
	if gabi.SP()-*gabi.StackLo(g) < RegionStackBudget+2*gabi.StackGuard {
		growStack() // before the sentinel: this copy needs a precise unwind
	}
	top := gabi.StkTopSP(g)
	r := region{thread: *gabi.M(g), lo: *gabi.StackLo(g), topSP: *top} // read after growStack, which moves the stack
	*top = regionTopSP
	return r
}

// leave checks that fn returned where Region called it, on the same
// thread, and ends the region.
func (r region) leave(g unsafe.Pointer) {
	if *gabi.M(g) != r.thread {
		gabi.Throw("ctx: the goroutine left its thread inside a Region: a scheduler-visible system call " +
			"(file or network I/O, ...) let the scheduler move it, unpinned, while the old thread died")
	}
	if *gabi.StackLo(g) != r.lo {
		gabi.Throw("ctx: a Region's function returned on a foreign stack")
	}
	*gabi.StkTopSP(g) = r.topSP
	gabi.ProcUnpin()
	if gabi.Preempt(g) {
		// procUnpin does not re-arm a preemption requested meanwhile (the
		// runtime's releasem does): yield now, or a GC waiting for us waits
		// for the next region too.
		runtime.Gosched()
	}
}

// letCollectionFinish yields the processor while marking reports a
// collection in its mark phase, for at most max (see regionGCWait), and
// returns how many times it yielded.
func letCollectionFinish(marking func() bool, max time.Duration) (yields int) {
	if !marking() {
		return 0
	}
	for deadline := time.Now().Add(max); marking() && time.Now().Before(deadline); yields++ {
		runtime.Gosched()
	}
	return yields
}

// InRegion reports whether the calling goroutine is inside a Region.
func InRegion() bool { return gabi.InRegion() }

// growStack's frame makes the runtime grow the stack to fit it. It writes
// and reads only its own frame: goroutines enter regions at once.
//
//go:noinline
func growStack() byte {
	var pad [RegionStackBudget]byte
	pad[padIndex] = 1
	return pad[padIndex]
}

// padIndex is never written: an index the compiler cannot see through, so
// that pad stays a 64 KiB array in growStack's frame.
var padIndex = 0
