package continuation

import (
	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/gabi"
)

// The fast paths of Run and Yield, in assembly (fast_amd64.s,
// fast_arm64.s). Each is what Run or Yield inlines: one call through a func
// value, so with the register ABI (c or s arrives in a register, g in its
// own), that either switches at once, as ctx.Switch, or is ctx.Call(c.run)
// or ctx.Call(s.yield). Their func types have five words of arguments,
// laid out as ctx.call's (fn, from, to, live, ok): the caller reserves
// their spill space above the return PC, and the slow way stores fn there
// and jumps to call. Yield's result comes back in the first result
// register: ctx.call leaves its own there, and every way the switch
// returns to its caller leaves true (ctx's hookReturn), however the
// continuation was resumed: by the switch, at a handoff's landing pad, or
// through a hook run in the switch's place.
//
// yield finds k, the innermost continuation mounted on the calling
// goroutine. Outside a region it first tries the scope's last continuation
// (Scope.last, which the slow Run sets): k if Run's fast path mounted it
// and its own carrier (cont.car) is this goroutine's and holds it
// innermost, which is the case whenever one continuation of the scope runs
// at a time. Otherwise, and inside a region, it takes k from the
// goroutine's own carrier (the table carrierFor fills, hashed as slot does;
// a carrier in the overflow map takes the slow way), so that it costs the
// same however many continuations a scope has and wherever they run. k must be of scope s (s.last always is). The first
// way starts its chain of dependent loads from s, the table way from g,
// three loads longer before the handoff's locked instructions can start;
// on the Raw engine, which has none, the first way measured slower instead
// (docs/design.md, section 6).
//
// On the Raw engine, run mounts k the fast way (carrier.lazy) and
// switches to its stack if k is fastSuspended, the goroutine runs inside a
// region, and no other continuation is mounted the fast way on k's
// goroutine. yield takes k from carrier.lazy, unmounts it and switches to
// k's Run caller if the calling code runs on k's own stack (not on a stack
// k's body switched to) and k is not in a critical section.
//
// On the Goroutine engine, run marks k goMounted and switches to its
// coroutine's resume point (through the entry ctx.SwitchToResumePoint
// calls: a handoff in assembly, or else the point's Resume hook) if k is
// goSuspended and the calling goroutine is the one that last ran k as its
// outermost continuation. Then k is outermost again, with no look at that
// goroutine's carrier: the first such Run found nothing mounted there, so
// the goroutine is no continuation's body (a body's carrier holds its
// continuation while any of its code runs), and on any other goroutine only
// a Raw continuation is mounted while the goroutine runs code, inside a
// Region, where the Resume hook throws before anything runs. run leaves
// that carrier alone: nothing reads it before k is suspended or ends (see
// unmountDirect). yield takes k from the body goroutine's carrier (cur:
// nothing is mounted inside k), marks it goSuspended and switches to the
// yield point the same way if k is goMounted, not in a critical section,
// and the goroutine is not locked to its thread. The goroutines are told
// apart by id alone, which the runtime never gives two goroutines of one
// process (a g record is reused, its goroutine's id is not).
//
// Neither writes a pointer: the collector's write barrier is Go's to
// make, and the fast paths store only addresses and flags.
func run()   // called through runFn
func yield() // called through yieldFn

// runFn calls run with the register ABI, c in the first argument register,
// as ctx.Switch calls the switch: no argument goes through memory on the
// way in. Its type has five words of arguments because the caller reserves
// their spill space above the return PC, and that is where run's slow way
// lays out ctx.call's arguments.
var runFn = func() func(c *Continuation, from, to *ctx.Context, live, ok uintptr) {
	pc, _ := textAddrs()
	return gabi.FuncAt[func(c *Continuation, from, to *ctx.Context, live, ok uintptr)](pc)
}()

// yieldFn calls yield the same way, s in the first argument register; its
// result is Yield's.
var yieldFn = func() func(s *Scope, from, to *ctx.Context, live, ok uintptr) bool {
	_, pc := textAddrs()
	return gabi.FuncAt[func(s *Scope, from, to *ctx.Context, live, ok uintptr) bool](pc)
}()

// cont.fast's values.
const (
	slowOnly = 0 // Run and Yield take the slow way

	// Raw: fastSuspended while Run may take the fast way (k has run
	// before, is suspended in a Yield to its own scope with nothing
	// suspended inside it, and is not done), fastMounted while the fast
	// way mounted it (carrier.lazy holds k).
	fastSuspended = 1
	fastMounted   = 2

	// Goroutine engine: the same for a continuation that Run resumes
	// straight from its caller, as the outermost one on the caller's
	// goroutine (see unmountDirect).
	goSuspended = 3
	goMounted   = 4
)

// Constants for the assembly (through go_asm.h).
const (
	gStkTopSP   = gabi.OffStkTopSP
	gGoid       = gabi.OffGoid
	gLockedM    = gabi.OffLockedM
	regionTopSP = gabi.RegionTopSP
)

func textAddrs() (run, yield uintptr)

// Routines returns the assembly of Run's and Yield's fast paths, for
// disassemblers and inspectors (cmd/corobench disasm prints them after
// package ctx's routines).
func Routines() []ctx.Routine {
	run, yield := textAddrs()
	const pkg = "github.com/corokit/corokit/continuation."
	return []ctx.Routine{{Name: pkg + "run", PC: run}, {Name: pkg + "yield", PC: yield}}
}
