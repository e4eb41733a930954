// Package ctx switches execution between machine stacks inside one
// goroutine: the lowest layer of corokit, written in assembly for amd64
// (ctx_amd64.s) and arm64 (ctx_arm64.s).
//
// A Context records where a stack was left: the machine registers Go code
// keeps live across a call (SP, PC and the frame pointer; Go's internal ABI
// has no callee-saved registers) and the goroutine fields that describe the
// stack to the runtime (g.stack, g.stackguard0, g._defer, g._panic).
// Switch(from, to) saves the running stack into from and resumes to.
//
// Go code may run on a foreign stack only under the rules of a pinned
// region (Region): the runtime scans and moves exactly one stack per
// goroutine, and a region makes sure it never looks while a goroutine has
// two. Switch checks that it runs inside one and otherwise stops the
// process with a fatal error. docs/design.md gives the reasons, each with
// the test that shows it.
//
// Call runs a Go function that may turn the call into a switch made by its
// caller (Caller.Redirect), so that layers above (coro, continuation) can
// decide in Go whether and where to switch, and still leave no frame of
// their own between the caller and the switch.
//
// Most users want package coro, which builds coroutines on this.
package ctx

import (
	"fmt"
	"unsafe"

	"github.com/corokit/corokit/internal/gabi"
	"github.com/corokit/corokit/stackalloc"
)

// Context is a suspended (or running) execution context: a gobuf-like
// record. Its zero value is ready to be passed as Switch's from: it then
// receives the state of the stack that calls Switch.
//
//	amd64 arm64  field   holds
//	 0     0     sp      SP to resume with
//	 -     8     pc      arm64: LR, where execution resumes; on amd64 the
//	                     return PC the CALL into the switch pushed, in the
//	                     word below sp, is where it resumes
//	 8    16     bp      frame pointer (BP, R29): the unwinding chain
//	16    24     lo      } the stack's bounds, g.stack while it runs
//	24    32     hi      }
//	32    40     guard   lo + the runtime's StackGuard: g.stackguard0 while it runs
//	40    48     state   owner g | suspended | withChains; 0: never saved or initialized
//	48    56     hook    func run instead of switching (see SetHook)
//	56    64     entry   func run by a context made by Init
//	64    72     deferp  g._defer    } the stack's defer and panic chains
//	72    80     panicp  g._panic    } while it is suspended
//	80    88     Link    context to resume when entry returns
//	88    96     hand, kind: a goroutine handoff (handoff.go)
//
// What Switch reads and writes on its fast path, sp to entry, is the first
// 64 bytes. state lets one compare check three things (see Switch): a
// suspended context's state is its goroutine's g plus 1, which is g plus
// g.stktopsp inside a region and only there (outside, g.stktopsp is an
// aligned stack address, so the sum is even), and differs from a running
// (g), finished (g), foreign or never used (0) context's, and from a
// suspended one's that has defer or panic chains to restore (g+3).
//
// A preemption request the scheduler stores in g.stackguard0 does not
// survive a switch: inside a region the first prologue to see it would drop
// it anyway (the runtime's newstack cannot preempt a pinned goroutine), and
// g.preempt, which Region checks at its end, keeps it. g.stktopsp is not
// switched: inside a region it holds a sentinel for the whole region (see
// Region).
//
// A Context must stay reachable (from the heap or a goroutine stack, never
// only from a foreign stack) for as long as it may be resumed.
type Context struct {
	sp     uintptr
	pc     [resumePCWords]uintptr
	bp     uintptr
	lo, hi uintptr
	guard  uintptr
	state  uintptr
	hook   func() // if set, Switch calls it instead of switching
	entry  func()
	deferp unsafe.Pointer // nil while the context runs: the chain is in g
	panicp unsafe.Pointer
	_      [1 - resumePCWords]uintptr // 112 bytes on both: lo stays 16-byte aligned in a pair of Contexts

	// Link is the context resumed when the entry function given to Init
	// returns. Nil Link at that point is a fatal error.
	Link *Context

	// A hook context with a Handoff switches goroutines (handoff.go).
	hand *Handoff
	kind uintptr
}

// contextSize is Context's size, which the trampolines' frames make room
// for (ctx_*.s): the index below is out of range if it is not.
const contextSize = 112

var _ = [1]int{}[unsafe.Sizeof(Context{})-contextSize]

// state's flags; the other bits are the owner's g.
const (
	suspended  = 1 // saved by Switch or made by Init, and not resumed since
	withChains = 2 // suspended with defer or panic records in deferp, panicp
)

// Switch saves the calling stack's state in from and resumes to. It
// returns when some later Switch resumes from.
//
// The switch itself is a CALL into assembly (switchRegs) and a JMP out of
// it: no RET goes back across stacks, so the return-address predictor is
// not trained on the wrong stack. Callers that inline their wrapper around
// Switch (as coro's Resume and Yield do) switch with that one call.
//
// Switch is a variable holding a function, not a function, so that the
// call passes from and to in registers (Go calls a function value with its
// register ABI, and an assembly function with arguments on the stack, a
// store and a dependent load more on each switch), and so that a wrapper
// inlined into a package that does not import ctx still makes that one
// call (Go 1.26 inlines no Go function of ctx there: a function Switch
// would leave a frame and a mispredicted return on every switch). Do not
// assign to it.
//
// If to has a hook (SetHook), Switch calls it on the calling stack instead
// and returns when it returns; from is left as it was, and no region is
// needed. Otherwise Switch checks what would corrupt memory in silence, and
// throws (a fatal error, not a panic) naming the problem:
//
//   - it must run inside a Region ("ctx: Switch outside a pinned region");
//   - to must have been saved or initialized by the calling goroutine
//     ("ctx: Switch to a context of another goroutine, or one never saved
//     or initialized");
//   - to must be suspended, not running and not finished ("ctx: Switch to
//     a context that is running or finished");
//   - a from made by Init must be the context that is running ("ctx: Switch
//     from a context made by Init that is not running").
//
// The first three are one compare of to.state; the last compares from's
// stack bounds with the running stack's, which from then need not receive
// again.
var Switch = func() func(from, to *Context) {
	regs, _, _, _, _ := textAddrs()
	return funcOf[func(from, to *Context)](regs)
}()

// A Caller is the call to Call in progress, as the function Call runs sees
// it. It is valid only until that function returns: using it later panics
// (it would write into a frame that may belong to other code by then).
type Caller struct {
	frame unsafe.Pointer // call's arguments, laid out in ctx_*.s
}

// Call calls fn on the calling stack, as a plain call would, but lets fn
// turn the call into a switch made by Call's caller (Caller.Redirect): when
// the caller resumes, it resumes right after Call, with no frame of fn's
// or Call's in between. Each such frame would add a return that the CPU
// predicts from the other stack's calls, and mispredicts (docs/design.md).
//
// Call returns true, or what fn set with SetResult if fn did not redirect.
func Call(fn func(c Caller)) bool { return call(fn, nil, nil, 0) }

// call is Call's assembly; from, to and live are slots for it and the
// Caller, not arguments.
func call(fn func(Caller), from, to *Context, live uintptr) (ok bool)

// Offsets in call's arguments, and what the live slot holds while fn runs
// (ctx_*.s).
const (
	callerFrom = 8
	callerTo   = 16
	callerLv   = 24
	callerOK   = 32
	callerLive = 0x5ca1ab1e_c0ffee01
)

// check panics unless c's call is in progress.
func (c Caller) check() {
	if c.frame == nil || *(*uintptr)(unsafe.Add(c.frame, callerLv)) != callerLive {
		panic("ctx: a Caller used outside the function Call runs")
	}
}

// SetResult sets what Call returns if fn returns without Redirect.
func (c Caller) SetResult(ok bool) {
	c.check()
	*(*bool)(unsafe.Add(c.frame, callerOK)) = ok
}

// Redirect asks Call to complete the call, once fn returns, as Switch(from,
// to) made by Call's caller: from receives the caller's state, and when
// something switches to from, Call returns true to the caller. If to is a
// hook context, its hook runs on the caller's stack and returns to it. fn
// should return right after: anything it does after Redirect happens
// before the switch. Redirect's switch checks what Switch checks, in the
// same way.
func (c Caller) Redirect(from, to *Context) {
	c.check()
	if to == nil || from == nil && to.hook == nil {
		panic("ctx: Redirect with a nil Context")
	}
	*(**Context)(unsafe.Add(c.frame, callerFrom)) = from
	*(**Context)(unsafe.Add(c.frame, callerTo)) = to
	*(*bool)(unsafe.Add(c.frame, callerOK)) = true
}

// MinStack is the smallest stack Init accepts. A runtime stack starts at
// 2 KiB; the StackGuard area at the bottom of every stack must fit too.
const MinStack = 4 << 10

// Init prepares c to run entry on stack s, for the calling goroutine: only
// it may switch to c. Init leaves c.Link as it is. The first Switch to c calls
// entry there, through an entry frame (the trampoline) that the runtime's
// unwinder treats as the top of the stack, as it treats goexit. When entry
// returns, the trampoline switches to c.Link.
//
// Init does not allocate: s stays the caller's to free, after c is done.
func Init(c *Context, s stackalloc.Stack, entry func()) {
	if entry == nil {
		panic("ctx: Init with a nil entry function")
	}
	if s.IsZero() || s.Size() < MinStack {
		panic(fmt.Sprintf("ctx: Init with a %d-byte stack; want at least %d (ctx.MinStack)", s.Size(), MinStack))
	}
	top := s.Hi &^ 15
	// The trampoline starts as if called, with SP at a return-address slot.
	// On amd64 that slot holds a zero PC; arm64 passes the return address
	// in LR instead (zeroed by trampolineEntry) and needs 16-byte alignment.
	sp := top - 16
	*(*uintptr)(addr(sp)) = 0
	*c = Context{
		sp:    sp,
		bp:    0, // ends the frame-pointer chain at the trampoline
		lo:    s.Lo,
		hi:    s.Hi,
		guard: s.Lo + gabi.StackGuard,
		state: uintptr(gabi.G()) | suspended,
		entry: entry,
		Link:  c.Link,
	}
	c.setResumePC(trampolineEntryPC())
}

// SetHook makes c a hook context, or with fn nil an ordinary one again.
// Switch(from, c) on a hook context calls fn on the calling stack instead of
// switching, and returns when fn returns.
//
// Hooks let one inlined call site route to either a real switch or to Go
// code: package coro gives its Goroutine engine hook contexts, and turns a
// finished coroutine's context into a hook that reports the misuse.
func (c *Context) SetHook(fn func()) { c.hook = fn }

// Move makes dst hold the suspended state that src holds: a Switch to dst
// then resumes where a Switch to src would have, and src is no longer
// suspended. dst keeps its own entry, hook and Link. Both must belong to
// the calling goroutine; src must be suspended. Package continuation uses
// it to suspend several stacks with one switch.
func Move(dst, src *Context) {
	g := uintptr(gabi.G())
	if src.state&^withChains != g|suspended || src.hook != nil {
		panic("ctx: Move from a context that is not suspended on this goroutine")
	}
	dst.sp, dst.pc, dst.bp = src.sp, src.pc, src.bp
	dst.lo, dst.hi, dst.guard = src.lo, src.hi, src.guard
	dst.deferp, dst.panicp = src.deferp, src.panicp
	dst.state, src.state = src.state, g // src: as if it had been resumed
	src.deferp, src.panicp = nil, nil
}

// Suspended reports whether c is suspended: saved by Switch or prepared by
// Init, and not resumed since.
func (c *Context) Suspended() bool { return c.state&suspended != 0 && c.hook == nil }

// Stack returns the bounds of the stack c runs on, as g.stack holds them
// while c runs. For a context that has never been saved or initialized
// both are zero.
func (c *Context) Stack() (lo, hi uintptr) { return c.lo, c.hi }

// CallerPCs returns the call stack of a suspended context as
// runtime.Callers would: the PC it resumes at, then each frame's return PC
// along the saved frame-pointer chain (the return PC sits one word above
// each saved frame pointer, on amd64 and arm64 alike), up to the
// trampoline. It stops at the first frame pointer outside the context's
// stack, and after max PCs. runtime.CallersFrames turns them into frames.
func (c *Context) CallerPCs(max int) []uintptr {
	if max <= 0 {
		return nil
	}
	pcs := []uintptr{c.resumePC()}
	for fp := c.bp; fp >= c.lo && fp+16 <= c.hi && len(pcs) < max; fp = *(*uintptr)(addr(fp)) {
		pcs = append(pcs, *(*uintptr)(addr(fp + 8)))
	}
	return pcs
}

// addr turns an address in a stackalloc stack into a pointer. The memory is
// mmap'd: the Go heap never owns, moves or frees it.
func addr(a uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&a)) }

// Functions the assembly calls, all with ABI0 wrappers generated by the
// toolchain.

// swapChains moves the defer and panic chains between g and the contexts,
// and sets from's state to suspended, with or without chains. It is Go, not
// assembly, because g is a heap object that the collector may be scanning
// on another thread: these pointer stores need write barriers. When to is
// the one with chains, the switch comes here before its check of from,
// which swapChains therefore makes as well.
//
//go:nosplit
func swapChains(from, to *Context) {
	g := gabi.G()
	if lo, hi := *gabi.StackLo(g), *gabi.StackHi(g); from.lo != lo || from.hi != hi {
		if from.entry != nil {
			notRunning()
		}
		from.lo, from.hi, from.guard = lo, hi, lo+gabi.StackGuard
	}
	from.deferp, from.panicp = *gabi.Defer(g), *gabi.Panic(g)
	*gabi.Defer(g), *gabi.Panic(g) = to.deferp, to.panicp
	to.deferp, to.panicp = nil, nil
	from.state = uintptr(g) | suspended
	if from.deferp != nil || from.panicp != nil {
		from.state |= withChains
	}
}

func notInRegion() {
	gabi.Throw("ctx: Switch outside a pinned region (see ctx.Region): the garbage collector could scan one stack of a goroutine that has two")
}

func foreignContext() {
	gabi.Throw("ctx: Switch to a context of another goroutine, or one never saved or initialized")
}

func notRunning() {
	gabi.Throw("ctx: Switch from a context made by Init that is not running (a Yield outside its coroutine's body?)")
}

func noLink() {
	gabi.Throw("ctx: the entry function returned and its Context has no Link to resume")
}

func notReady() {
	gabi.Throw("ctx: Switch to a context that is running or finished (resuming a running or finished coroutine?)")
}

// Implemented in assembly.
func switchRegs() // the switch, entered by a call that passes from and to in registers
func switchFrom() // the switch for call's redirect, which jumps to it
func hooked()     // the switch's way out for a hook context (handoff_*.s)
func trampoline()
func trampolineEntry()
func textAddrs() (regs, from, call, tramp, trampEntry uintptr)
func abiProbe() // records its registers in abiSeen
func abiProbePC() uintptr

// switchRegs is entered as Switch's function value is called: with Go's
// register ABI, whatever code the value points to. So from and to arrive
// in the first two argument registers (AX and BX on amd64, R0 and R1 on
// arm64), g in its register (R14, R28) and, on amd64, X15 zero.
// checkRegisterABI checks that convention when the package starts.
func init() { checkRegisterABI() }

// checkRegisterABI calls an assembly probe as Switch calls switchRegs,
// and panics unless the registers held what switchRegs expects.
func checkRegisterABI() {
	var a, b Context
	funcOf[func(a, b *Context)](abiProbePC())(&a, &b)
	want := abiRegs{uintptr(unsafe.Pointer(&a)), uintptr(unsafe.Pointer(&b)), uintptr(gabi.G())}
	if abiSeen != want {
		panic(fmt.Sprintf("ctx: a call through a func value passed %#x (first two arguments, g; X15 on amd64 "+
			"must be zero too), want %#x: the Go register ABI changed, and ctx.Switch depends on it", abiSeen, want))
	}
}

// abiRegs is what abiProbe saw: the first two argument registers and g's.
// On amd64 it sees X15 too and leaves g's word zero unless X15 was zero.
type abiRegs [3]uintptr

var abiSeen abiRegs

// funcOf makes a func value that calls the code at pc: a func value
// points to a record whose first word is the code's address.
func funcOf[F any](pc uintptr) F {
	rec := &struct{ pc uintptr }{pc}
	return *(*F)(unsafe.Pointer(&rec))
}

// A Routine is one of this package's assembly routines, for disassemblers
// and inspectors.
type Routine struct {
	Name string // as the runtime names it, e.g. "github.com/corokit/corokit/ctx.switchRegs"
	PC   uintptr
}

// Routines returns the assembly routines: the switch that Switch calls,
// switchFrom, where Call's redirect enters it, Call's, and the entry
// trampoline.
func Routines() []Routine {
	regs, from, call, tramp, _ := textAddrs()
	const pkg = "github.com/corokit/corokit/ctx."
	return []Routine{
		{pkg + "switchRegs", regs}, {pkg + "switchFrom", from},
		{pkg + "call", call}, {pkg + "trampoline", tramp},
	}
}

func trampolineEntryPC() uintptr { _, _, _, _, entry := textAddrs(); return entry }

// Constants for the assembly (through go_asm.h).
const (
	gStackLo     = gabi.OffStackLo
	gStackHi     = gabi.OffStackHi
	gStackGuard0 = gabi.OffStackGuard0
	gPanic       = gabi.OffPanic
	gDefer       = gabi.OffDefer
	gStkTopSP    = gabi.OffStkTopSP
	stackGuard   = gabi.StackGuard
	regionTopSP  = gabi.RegionTopSP // in g.stktopsp for the whole of a region
)
