package ctx

import (
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/corokit/corokit/internal/gabi"
)

// A Handoff lets two goroutines take turns on one thread through a
// runtime coroutine, the one under an iter.Pull: a resumer, which hands
// control to the body goroutine, and the body, which hands it back. Hook
// contexts made its resume point and yield point (SetResumePoint,
// SetYieldPoint) switch goroutines in assembly, on the current stack,
// doing what the runtime's own switch does in its common case; whenever
// the runtime must see the switch (see HandoffStatus), or the turn does
// not allow it, Switch runs the context's hook instead, which is expected
// to hand over through iter.Pull's own next and yield. Both ways leave the
// goroutines in the state the runtime's switch leaves them, so either can
// resume a goroutine the other suspended. docs/design.md has the sequence
// and the reason for each step.
//
// The turn says who may switch: TurnSuspended, the resumer (the body is
// suspended, or has not started); the body goroutine's g, the body; any
// other value below MaxTurn, neither (the owner's hooks decide). A switch
// to the resume point passes the turn to the body, a switch to the yield
// point back to TurnSuspended. The hooks must do the same, on the
// goroutine that holds the turn.
//
// A goroutine that a switch to the resume point suspended continues, when
// it is resumed, by returning from that Switch if the turn is
// TurnSuspended, else by calling afterResume in its place (which returns
// to Switch's caller); one suspended by a switch to the yield point
// returns if the turn is its own, else calls afterYield. That is how the
// owner learns that the body finished or is being closed, whichever way
// the goroutine was resumed.
type Handoff struct {
	coro        unsafe.Pointer // the *runtime.coro both goroutines switch through; nil once retired
	turn        uintptr
	body        uintptr // the body goroutine's g, once it has started
	afterResume func()
	afterYield  func()
	fallbacks   uintptr // switches left to the hook (read by tests)
	slow        uintptr // non-zero: leave every switch to the hook (SetSlow)
}

// Handoff.slow's bits: the owner's (SetSlow, Retire), and Init's for a
// runtime coroutine made on a locked thread.
const (
	slowOwner      = 1
	slowLockedCoro = 2
)

// Turns with a meaning to Handoff itself.
const (
	TurnSuspended = 1
	MaxTurn       = 4096 // no g lies below it
)

// Context.kind of a Handoff's two points.
const (
	kindResume = 1
	kindYield  = 2
)

// Init prepares h for the coroutine of an iter.Pull[struct{}] next function
// (gabi.PullOf). The turn starts at TurnSuspended.
func (h *Handoff) Init(coro unsafe.Pointer, afterResume, afterYield func()) {
	*h = Handoff{coro: coro, turn: TurnSuspended, afterResume: afterResume, afterYield: afterYield}
	// coro.mp, set when a goroutine locked to its thread made the
	// coroutine, never changes after: the switch reads it with the owner's
	// bit, in one word.
	if coro != nil && *(*uintptr)(unsafe.Add(coro, coroMP)) != 0 {
		h.slow = slowLockedCoro
	}
}

// Turn returns who may switch now.
func (h *Handoff) Turn() uintptr { return h.turn }

// SetTurn sets who may switch now, for the owner's hooks.
func (h *Handoff) SetTurn(t uintptr) { h.turn = t }

// Body returns the body goroutine's g (0 until Start).
func (h *Handoff) Body() uintptr { return h.body }

// Start records the calling goroutine as the body and gives it the turn.
// The body calls it first thing.
func (h *Handoff) Start() {
	h.body = uintptr(gabi.G())
	h.turn = h.body
}

// SetSlow makes every switch to h's points go to the hook, or with slow
// false lets them switch in assembly again where they may.
func (h *Handoff) SetSlow(slow bool) {
	h.slow &^= slowOwner
	if slow {
		h.slow |= slowOwner
	}
}

// Retire lets go of the runtime's coroutine once the body has ended (its
// closures reach everything the body could), and leaves every later switch
// through h's points to their hooks. The assembly reads the coroutine only
// through the points' copies of its address (setPoint), which Retire
// cannot reach, and only after the turn check, which a retired Handoff's
// turn never passes.
func (h *Handoff) Retire() {
	h.coro, h.slow = nil, h.slow|slowOwner
}

// Fallbacks reports how many switches to h's points went to the hook
// rather than switching in assembly: refused, or made through Switch's
// variant for the other kind of point.
func (h *Handoff) Fallbacks() uintptr { return h.fallbacks }

// SetResumePoint makes the hook context c h's resume point (after Init):
// Switch to c hands control to the body goroutine when the turn allows,
// else runs c's hook. Switch's from is not used by a handoff: the suspended
// goroutine's state is kept where the runtime keeps it.
func (c *Context) SetResumePoint(h *Handoff) { c.setPoint(h, kindResume) }

// SetYieldPoint makes the hook context c h's yield point (after Init):
// Switch to c, called by the body goroutine holding the turn, hands control
// back to the resumer, else runs c's hook.
func (c *Context) SetYieldPoint(h *Handoff) { c.setPoint(h, kindYield) }

// Handoff returns the Handoff whose point c is, or nil.
func (c *Context) Handoff() *Handoff { return c.hand }

// setPoint also copies the address of h's runtime coroutine into c: the
// switch then reaches the coroutine from c with one dependent load fewer,
// which a Goroutine-engine continuation, whose contexts are themselves
// loaded from its records, measured as 3-4 ns of its round trip
// (docs/design.md, section 9). An address, not a pointer: h holds the
// coroutine until Retire, and a point that outlives its coroutine must not
// keep it, and the body with it, alive. The switch reads it only after the
// turn check, which a retired Handoff's turn never passes.
func (c *Context) setPoint(h *Handoff, kind uintptr) {
	if c.hook == nil {
		panic("ctx: a handoff point must be a hook context (SetHook first)")
	}
	if h.coro == nil {
		panic("ctx: a handoff point of a Handoff not yet Init'ed")
	}
	c.hand, c.kind, c.coro = h, kind, uintptr(h.coro)
}

// The gates the assembly reads: the runtime's flags (gabi.Gates), or
// gateClosed while the fast handoff is off.
var (
	traceGate, profileGate = &gateClosed, &gateClosed
	gateClosed             = byte(1)
	handoffWhyOff          = "not probed yet: no Goroutine-engine coroutine has been made"
	handoffOnce            sync.Once
)

// handoffUnsupported says why this build or platform cannot switch
// goroutines in assembly, or "".
func handoffUnsupported() string {
	switch {
	case os.Getenv("COROKIT_HANDOFF") == "runtime":
		return "COROKIT_HANDOFF=runtime in the environment"
	case buildWhyOff != "":
		return buildWhyOff
	case runtime.GOARCH == "arm64" && gabi.IsCgo():
		// g lives in R28 and, with cgo, in thread-local storage too, which
		// only the runtime's save_g writes (the linker refuses it here).
		return "an arm64 binary with cgo: the runtime also keeps g in thread-local storage, which only it may write"
	}
	return ""
}

// EnableHandoff turns the assembly handoff on, once per process, if the
// build and the runtime allow it (see HandoffStatus). Package coro calls
// it before it makes its first Handoff.
func EnableHandoff() {
	handoffOnce.Do(func() {
		if why := handoffUnsupported(); why != "" {
			handoffWhyOff = why
			return
		}
		g, err := gabi.ProbeHandoff()
		if err != nil {
			handoffWhyOff = "the runtime does not look as expected: " + err.Error()
			return
		}
		traceGate, profileGate = g.Trace, g.Profile
		handoffWhyOff = ""
	})
}

// HandoffStatus reports whether Handoff switches in assembly and, if not,
// why not. COROKIT_HANDOFF=runtime in the environment turns it off for the
// whole process, for ruling corokit's switch out when debugging. When on,
// every switch still leaves it to the runtime while the execution tracer
// runs, while a goroutine profile is being taken, for a goroutine locked
// to its thread or a coroutine made by one, inside a testing/synctest
// bubble or runtime/secret, and on a pinned thread.
func HandoffStatus() (on bool, why string) {
	EnableHandoff()
	return handoffWhyOff == "", handoffWhyOff
}

// Constants for the assembly (through go_asm.h).
const (
	gM            = gabi.OffM
	gSched        = gabi.OffSched
	gAtomicStatus = gabi.OffAtomicStatus
	gWaitReason   = gabi.OffWaitReason
	gLockedM      = gabi.OffLockedM
	gSecret       = gabi.OffSecret
	gBubble       = gabi.OffBubble
	gobufSP       = gabi.OffGobufSP
	gobufPC       = gabi.OffGobufPC
	gobufCtxt     = gabi.OffGobufCtxt
	gobufLR       = gabi.OffGobufLR
	gobufBP       = gabi.OffGobufBP
	mG0           = gabi.OffMG0
	mCurg         = gabi.OffMCurg
	mLocks        = gabi.OffMLocks
	coroGP        = gabi.OffCoroGP
	coroMP        = gabi.OffCoroMP
	gRunning      = gabi.Grunning
	gWaiting      = gabi.Gwaiting
	gScanWaiting  = gabi.Gscanwaiting
	waitCoroutine = gabi.WaitReasonCoroutine
)

// handoffRaced is where the assembly throws, on g0, when the goroutine it
// was to resume was not waiting in the coroutine: two goroutines switched
// through one coroutine at once, a data race on a Coro.
//
//go:nosplit
func handoffRaced() {
	gabi.Throw("ctx: two goroutines switched through one coroutine at once (a Coro used from two goroutines concurrently)")
}

// SwitchToResumePoint is Switch for a to that is a resume point
// (SetResumePoint): it goes straight to the handoff, without Switch's
// tests for what to is, which cost a tenth of a handoff's round trip. Any
// other hook context has its hook called, as Switch would; a to with no
// hook is a fatal error (switch to those with Switch). Like Switch, it is
// a variable holding a function: call it from a function the compiler
// inlines, and do not assign to it.
var SwitchToResumePoint = func() func(from, to *Context) {
	_, resume, _, _, _, _, _ := handoffAddrs()
	return gabi.FuncAt[func(from, to *Context)](resume)
}()

// SwitchToYieldPoint is the same for a yield point (SetYieldPoint).
var SwitchToYieldPoint = func() func(from, to *Context) {
	_, _, yield, _, _, _, _ := handoffAddrs()
	return gabi.FuncAt[func(from, to *Context)](yield)
}()

// Implemented in assembly.
func handoffResume()
func handoffYield()
func handoff()
func otherPoint()
func refused()
func callHook()
func landResume()
func landYield()
func hookReturn()
func handoffAddrs() (hooked, resume, yield, body, landResume, landYield, hookReturn uintptr)

// handoffRoutines are the handoff's routines, for Routines.
func handoffRoutines() []Routine {
	h, res, y, body, lr, ly, ret := handoffAddrs()
	const pkg = "github.com/corokit/corokit/ctx."
	return []Routine{
		{pkg + "hooked", h}, {pkg + "handoffResume", res}, {pkg + "handoffYield", y},
		{pkg + "handoff", body}, {pkg + "landResume", lr}, {pkg + "landYield", ly},
		{pkg + "hookReturn", ret},
	}
}
