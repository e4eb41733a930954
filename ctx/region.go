package ctx

import (
	"runtime"

	"github.com/corokit/corokit/internal/gabi"
)

// RegionStackBudget is the stack the goroutine that enters a region may use
// inside it, below the point where it entered. The runtime cannot grow a
// goroutine's stack inside a region (growth copies the stack, which needs a
// precise unwind, which the region's sentinel makes fatal), so Region grows
// the stack by this much first. Going beyond it ends the process with
// "fatal error: traceback did not unwind completely".
const RegionStackBudget = 64 << 10

// Region runs fn pinned to its thread, the only state in which a goroutine
// may run code on more than one stack (docs/design.md):
//
//   - The goroutine cannot be preempted, so the garbage collector cannot
//     suspend it to scan its stack: it never sees one stack of two. The GC
//     waits instead, and so does every stop-the-world: keep regions short.
//   - g.stktopsp holds a sentinel for the whole region, so that a precise
//     unwind that happens anyway (the GC scanning a goroutine that entered
//     a system call, a stack copy) throws "traceback did not unwind
//     completely" instead of scanning part of the stacks in silence.
//
// Inside a region, on any stack, Go code must not park (channel waits,
// contended locks, time.Sleep, runtime.GC, ...: "schedule: holding locks"),
// stop the world (runtime.ReadMemStats: "stopTheWorld: holding locks"),
// panic ("panic holding locks", even if it would be recovered), or make
// scheduler-visible system calls (os file I/O: "stopm holding locks" or the
// unwind error above). Each of these ends the process with a fatal error.
//
// A nested Region (fn calling Region again, on any stack) just runs its
// function: the outer region already holds the pin.
func Region(fn func()) {
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
