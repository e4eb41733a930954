// Package ctx switches execution between machine stacks inside one
// goroutine: the lowest layer of corokit, in assembly for amd64 and arm64.
// Most users want package coro, which builds coroutines on it.
//
// Init prepares a Context to run a function on a stack from package
// stackalloc, and Switch(from, to) saves the running stack in from and
// resumes to. A Context carries what the runtime must know of the stack
// that runs (its bounds, its deferred calls), so that tracebacks, signal
// handlers and defer work on every stack.
//
// Code may run on a second stack only inside Region, which pins the
// goroutine to its thread: the garbage collector scans one stack per
// goroutine, and cannot scan a pinned one at all. Region's documentation
// says what code inside a region must not do. Switch checks that it runs
// inside one, and what else would corrupt memory in silence, and
// otherwise ends the process with a fatal error naming the problem.
// docs/design.md gives the reasons, each with the test that shows it.
//
// Call lets a function decide in Go whether and where to switch and have
// its caller make the switch (Caller.Redirect), so that code built on
// Switch (packages coro and continuation) adds no frame of its own
// between the caller and the switch.
//
// A Handoff switches between goroutines rather than stacks: two goroutines
// take turns through the runtime coroutine under an iter.Pull, and a
// Switch to one of its points (hook contexts) hands the thread from one
// to the other in assembly, as the runtime's own coroutine switch does,
// leaving to the runtime every switch it must see. SwitchToResumePoint
// and SwitchToYieldPoint are Switch for those points, without its
// dispatch. Package coro's Goroutine engine is built on it.
package ctx

import (
	"fmt"
	"unsafe"

	"github.com/corokit/corokit/internal/gabi"
	"github.com/corokit/corokit/stackalloc"
)

// Context is a suspended (or running) execution context. Its zero value is
// ready to be passed as Switch's from: it then receives the state of the
// stack that calls Switch.
//
// A Context must stay reachable (from the heap or a goroutine stack, never
// only from a foreign stack) for as long as it may be resumed.
type Context struct {
	// The layout, which ctx_*.s reads through go_asm.h (docs/design.md,
	// section 1):
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
	//	88    96     hand    } a goroutine handoff's point (handoff.go): the
	//	96   104     kind    } Handoff, which point, and the address of its
	//	104  120     coro    } runtime coroutine (arm64: after a word of padding,
	//	                     to 128 bytes, a multiple of 16)
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

	// Link is the context resumed when the entry function given to Init
	// returns. Nil Link at that point is a fatal error.
	Link *Context

	// A hook context with a Handoff switches goroutines (handoff.go).
	hand *Handoff
	kind uintptr
	_    [resumePCWords]uintptr // 112 bytes on amd64, 128 on arm64: lo stays 16-byte aligned in a pair of Contexts
	coro uintptr                // hand's runtime coroutine (see setPoint)
}

// contextSize (pc_*.go) is Context's size, which the trampolines' frames
// make room for (ctx_*.s): the index below is out of range if it is not.

var _ = [1]int{}[unsafe.Sizeof(Context{})-contextSize]

// state's flags; the other bits are the owner's g.
const (
	suspended  = 1 // saved by Switch or made by Init, and not resumed since
	withChains = 2 // suspended with defer or panic records in deferp, panicp
)

// Switch saves the calling stack's state in from and resumes to. It
// returns when some later Switch resumes from.
//
// Call it from a function the compiler inlines into its caller, as coro's
// Resume and Yield are: a call level left between the code that switches
// and the switch costs more than the switch itself (one on each side
// tripled a round trip on the development machine: docs/design.md,
// section 6).
//
// Switch is a variable holding a function, not a function: do not assign
// to it.
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
	// A func value, so that the call passes from and to in registers (Go
	// calls a function value with its register ABI, an assembly function
	// with arguments on the stack: a store and a dependent load more on each
	// switch), and so that a wrapper inlined into a package that does not
	// import ctx still makes that one call (Go 1.26 inlines no Go function
	// of ctx there: a function Switch would leave a frame, and a
	// mispredicted return, on every switch).
	regs, _, _, _, _ := textAddrs()
	return gabi.FuncAt[func(from, to *Context)](regs)
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
// or Call's in between, which would make every later switch slower (see
// Switch).
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

// live reports whether c's call is in progress.
func (c Caller) live() bool {
	return c.frame != nil && *(*uintptr)(unsafe.Add(c.frame, callerLv)) == callerLive
}

const deadCaller = "ctx: a Caller used outside the function Call runs"

// SetResult sets what Call returns if fn returns without Redirect.
func (c Caller) SetResult(ok bool) {
	if !c.live() {
		panic(gabi.Misuse(deadCaller))
	}
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
	switch {
	case !c.live():
		panic(gabi.Misuse(deadCaller))
	case to == nil || from == nil && to.hook == nil:
		panic(gabi.Misuse("ctx: Redirect with a nil Context"))
	}
	*(**Context)(unsafe.Add(c.frame, callerFrom)) = from
	*(**Context)(unsafe.Add(c.frame, callerTo)) = to
	*(*bool)(unsafe.Add(c.frame, callerOK)) = true
}

// MinStack is the smallest stack Init accepts. A runtime stack starts at
// 2 KiB; the StackGuard area at the bottom of every stack must fit too.
const MinStack = 4 << 10

// Init prepares c to run entry on stack s, for the calling goroutine: only
// it may switch to c. Init leaves c.Link as it is. The first Switch to c
// calls entry there, and tracebacks of that stack end at it; when entry
// returns, c.Link is resumed.
//
// Init does not allocate: s stays the caller's to free, after c is done.
func Init(c *Context, s stackalloc.Stack, entry func()) {
	if entry == nil {
		panic(gabi.Misuse("ctx: Init with a nil entry function"))
	}
	if s.IsZero() || s.Size() < MinStack {
		panic(gabi.Misuse(fmt.Sprintf("ctx: Init with a %d-byte stack; want at least %d (ctx.MinStack)", s.Size(), MinStack)))
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
// switching, and returns when fn returns; it needs no Region. Hooks let one
// call site switch stacks for some targets and run Go code for others.
func (c *Context) SetHook(fn func()) { c.hook = fn }

// Move makes dst hold the suspended state that src holds: a Switch to dst
// then resumes where a Switch to src would have, and src is no longer
// suspended. dst keeps its own entry, hook and Link. Both must belong to
// the calling goroutine; src must be suspended. Package continuation uses
// it to suspend several stacks with one switch.
func Move(dst, src *Context) {
	g := uintptr(gabi.G())
	if src.state&^withChains != g|suspended || src.hook != nil {
		panic(gabi.Misuse("ctx: Move from a context that is not suspended on this goroutine"))
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

// Stack returns the bounds of the stack c runs on, as the runtime sees
// them while c runs. For a context that has never been saved or initialized
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

func notHookContext() {
	gabi.Throw("ctx: SwitchToResumePoint or SwitchToYieldPoint to a context that has no hook (use Switch)")
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
	gabi.FuncAt[func(a, b *Context)](abiProbePC())(&a, &b)
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
	return append([]Routine{
		{pkg + "switchRegs", regs}, {pkg + "switchFrom", from},
		{pkg + "call", call}, {pkg + "trampoline", tramp},
	}, handoffRoutines()...)
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
