package ctx

import (
	"runtime"

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
func Region(fn func()) {
	// Growing the stack copies it, which needs a precise unwind, which the
	// sentinel in g.stktopsp makes fatal: hence RegionStackBudget.
	g := gabi.G()
	top := gabi.StkTopSP(g)
	if *top == regionTopSP {
		fn()
		return
	}
	gabi.ProcPin()
	if gabi.SP()-*gabi.StackLo(g) < RegionStackBudget+2*gabi.StackGuard {
		growStack() // before the sentinel: this copy needs a precise unwind
	}
	lo := *gabi.StackLo(g)
	saved := *top // read after growStack, which moves the stack
	*top = regionTopSP
	fn()
	if *gabi.StackLo(g) != lo {
		gabi.Throw("ctx: a Region's function returned on a foreign stack")
	}
	*top = saved
	gabi.ProcUnpin()
	if gabi.Preempt(g) {
		// procUnpin does not re-arm a preemption requested meanwhile (the
		// runtime's releasem does): yield now, or a GC waiting for us waits
		// for the next region too.
		runtime.Gosched()
	}
}

// InRegion reports whether the calling goroutine is inside a Region.
func InRegion() bool { return gabi.InRegion() }

// growStack's frame makes the runtime grow the stack to fit it.
//
//go:noinline
func growStack() {
	var pad [RegionStackBudget]byte
	pad[padIndex] = 1
	padSink = pad[padIndex]
}

var padIndex, padSink = 0, byte(0)
