// The context switch for amd64. See ctx.go for the Context layout and
// docs/design.md for why each g field travels with its stack.

#include "textflag.h"
#include "funcdata.h"
#include "go_asm.h"

// func switchRegs()
//
// The switch, entered by Switch's call through a func value (ctx.go), so
// with the internal register ABI: AX = from, BX = to, R14 = g, X15 = 0,
// and on the stack only the return PC:
//
//	SP+0   return PC into the caller     -> resumes there, with SP = SP+8
//
// from resumes as if the call had returned. The switch never returns
// itself: it leaves through a JMP to to's resume PC, so no RET is ever
// predicted with a return address pushed on another stack. The return PC
// stays where the CALL pushed it, in the word below from.sp, and from is
// resumed from there. The side that resumes finds R14 = g (the goroutine
// is the same) and X15 still zero, as the register ABI expects after a
// call, and AX = 1, as on every way back from the switch (hookReturn).
//
// The fast path makes four checks, and makes the runtime's view of the stack
// follow it; each check's failure leads to a slow path below:
//
//   - to.hook set: run the hook instead (hooked);
//   - to.state == g + g.stktopsp: in a region, to is this goroutine's and
//     suspended with no chains to restore (ctx.go has the proof);
//   - from's bounds are g.stack's: from describes the running stack (a
//     context made by Init must; any other receives them);
//   - no defer or panic record on g.
TEXT ·switchRegs(SB), NOSPLIT|NOFRAME, $0-0
	LEAQ	8(SP), SI				// from resumes with SP as our RET would leave it
	MOVQ	Context_hook(BX), DX
	TESTQ	DX, DX					// a hook context: call Go instead
	JNE	hook
	MOVQ	const_gStkTopSP(R14), R8
	ADDQ	R14, R8					// g+1 inside a region, even outside
	CMPQ	R8, Context_state(BX)			// to is ours, suspended, with no chains
	JNE	slowto
	MOVQ	const_gStackLo(R14), DX			// from describes the running stack
	CMPQ	DX, Context_lo(AX)
	JNE	slowfrom
	MOVQ	const_gStackHi(R14), DX
	CMPQ	DX, Context_hi(AX)
	JNE	slowfrom
fromok:
	MOVQ	const_gDefer(R14), DX			// any defer or panic record to move?
	ORQ	const_gPanic(R14), DX
	JNE	chains					// rare: open-coded defers make no records
regs:
	CMPQ	SI, Context_sp(AX)			// (the resume PC is the word below)
	JNE	newsp
spok:
	MOVQ	BP, Context_bp(AX)
	MOVQ	R8, Context_state(AX)			// from is suspended
	MOVQ	R14, Context_state(BX)			// to runs from here on
	MOVOU	Context_lo(BX), X0			// the runtime must see the stack that runs:
	MOVOU	X0, const_gStackLo(R14)			// signal handlers, morestack and tracebacks
	MOVQ	Context_guard(BX), DX			// compare SP with these bounds
	MOVQ	DX, const_gStackGuard0(R14)
	MOVQ	Context_bp(BX), BP
	MOVQ	Context_sp(BX), SP			// now on to's stack
	MOVQ	-8(SP), DX
	MOVL	$1, AX					// a result, for callers that want one (hookReturn)
	JMP	DX					// BX still holds to, for the trampoline

newsp:
	// A stack that switches away from the same depth again need not store
	// its SP again: the next Switch back then loads to.sp from the cache,
	// not through a store still in flight, which is the slower path and
	// the one every later instruction of a switch waits for.
	MOVQ	SI, Context_sp(AX)
	JMP	spok

hook:
	JMP	·hooked(SB)				// handoff_amd64.s: a goroutine handoff, or the hook

slowto:
	// Which check failed? A context suspended with chains is no failure.
	CMPQ	const_gStkTopSP(R14), $const_regionTopSP
	JNE	outside
	MOVQ	Context_state(BX), DX
	XORQ	R14, DX					// the flags, if to is this goroutine's
	CMPQ	DX, $(const_suspended|const_withChains)
	JEQ	chains
	JHI	foreign					// another goroutine's, or never saved
	CMPQ	Context_entry(AX), $0			// to is running or finished; but first,
	JEQ	notready				// as above, a from made by Init must be running
	MOVQ	Context_lo(AX), DX
	CMPQ	DX, const_gStackLo(R14)
	JNE	notrunning
	JMP	notready

slowfrom:
	// from's bounds differ from the running stack's: a context made by
	// Init must be running; any other takes them over.
	CMPQ	Context_entry(AX), $0
	JNE	notrunning
	MOVQ	const_gStackLo(R14), DX
	MOVQ	DX, Context_lo(AX)
	ADDQ	$const_stackGuard, DX
	MOVQ	DX, Context_guard(AX)
	MOVQ	const_gStackHi(R14), DX
	MOVQ	DX, Context_hi(AX)
	JMP	fromok

chains:
	// Move the chains in Go, with write barriers (g is a heap object the
	// collector may be scanning). swapChains also makes the from check if
	// the fast path has not, and sets from.state.
	ADJSP	$24					// (Go code preserves BP)
	MOVQ	AX, 0(SP)
	MOVQ	BX, 8(SP)
	MOVQ	SI, 16(SP)
	CALL	·swapChains(SB)
	MOVQ	0(SP), AX
	MOVQ	8(SP), BX
	MOVQ	16(SP), SI
	ADJSP	$-24
	MOVQ	(TLS), R14				// (the ABI0 call may have changed it)
	MOVQ	Context_state(AX), R8
	JMP	regs

outside:
	JMP	·notInRegion(SB)			// these throw
foreign:
	JMP	·foreignContext(SB)
notready:
	JMP	·notReady(SB)
notrunning:
	JMP	·notRunning(SB)

// func switchFrom()
//
// The switch for call's redirect, which jumps to it: AX = from, BX = to,
// and the state from resumes with: SI = SP, with the resume PC at -8(SI),
// BP = frame pointer. SP is at or below SI: call must not
// write SP itself (docs/design.md, section 6). switchFrom makes the stack
// look as switchRegs expects it, with the return PC on top, and g and zero
// in their registers, which ABI0 code need not keep.
TEXT ·switchFrom(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ	(TLS), R14
	XORPS	X15, X15
	LEAQ	-8(SI), SP
	JMP	·switchRegs(SB)

// func call(fn func(Caller), from, to *Context, live uintptr) (ok bool)
//
// Call's body: it calls fn with a Caller pointing at its own arguments,
// and if fn asked for a switch (Caller.Redirect sets to), makes it as the
// Switch(from, to) that Call's caller would have made:
//
//	FP+32  ok      what Call returns: true unless fn says otherwise
//	FP+24  live    callerLive while fn runs, so that a Caller kept past it fails
//	FP+16  to      } set by Caller.Redirect
//	FP+8   from    }
//	FP+0   fn      <- the Caller
//	       return PC into Call's caller      -> from.pc (from.sp = FP+0)
//	       saved BP (the prologue's)         <- BP
//	SP+0   fn's spill slot for its argument
//
// fn returns here, so each return goes where its call came from and the
// CPU predicts every one; the switch then leaves with a JMP, as Switch
// does, and from resumes in Call's caller, not here.
//
// call returns ok in AX too, for continuation's yield, which jumps here
// from a call that expects its result there.
//
// call writes every slot but fn before fn runs: a caller that reaches it
// through the register ABI (continuation's Run) leaves only its spill
// space there, stale words that the collector, which scans from and to as
// pointers while fn runs, must not see.
TEXT ·call(SB), NOSPLIT, $8-33
	NO_LOCAL_POINTERS
	MOVQ	$0, from+8(FP)
	MOVQ	$0, to+16(FP)
	MOVQ	$const_callerLive, AX
	MOVQ	AX, live+24(FP)
	MOVB	$1, ok+32(FP)
	MOVQ	fn+0(FP), DX				// DX: the closure context register
	LEAQ	fn+0(FP), AX				// fn's argument: the Caller
	MOVQ	0(DX), BX
	CALL	BX
	MOVQ	$0, live+24(FP)				// the Caller is dead from here on
	MOVQ	to+16(FP), BX
	TESTQ	BX, BX
	JNE	redirect
	MOVBLZX	ok+32(FP), AX				// ok in AX too, for continuation's yield
	RET
redirect:
	MOVQ	from+8(FP), AX
	LEAQ	fn+0(FP), SI				// from resumes with SP as our RET would leave it, at
							// our return PC, just below it,
	MOVQ	0(BP), BP				// with the caller's frame pointer
	JMP	·switchFrom(SB)

// trampolineEntry is where Init points a new context: on amd64 Init has
// already written the zero return PC that ends unwinding, so it only jumps.
TEXT ·trampolineEntry(SB), NOSPLIT|NOFRAME, $0-0
	JMP	·trampoline(SB)

// func trampoline()
//
// The bottom frame of every context made by Init, entered from the
// switch's JMP with BX = the Context. TOPFRAME makes the runtime's unwinder
// stop here, as it stops at goexit.
//
//	Hi      ...
//	        0               fake return PC written by Init
//	        saved BP = 0    pushed by the prologue: ends the frame-pointer chain
//	SP+8    scratch         a Context that receives this stack's last state
//	SP+0    c               kept for after entry returns
//
// Leaving through a scratch context keeps c from ever being marked
// suspended again: a Switch to a finished context throws instead of
// running on a stack that may already belong to someone else.
TEXT ·trampoline(SB), NOSPLIT|TOPFRAME, $120-0	// 8 + contextSize (pc_amd64.go)
	NO_LOCAL_POINTERS				// a raw stack is never scanned: if it is, the unwind must reach the sentinel check
	MOVQ	BX, 0(SP)				// keep c
	MOVQ	(TLS), R14				// Go code expects g in R14...
	XORPS	X15, X15				// ...and zero in X15
	MOVQ	Context_entry(BX), DX			// DX: the closure context register
	MOVQ	0(DX), AX
	CALL	AX					// entry()
	MOVQ	0(SP), CX
	MOVQ	Context_Link(CX), BX
	TESTQ	BX, BX
	JEQ	nolink
	LEAQ	8(SP), AX
	MOVQ	$0, Context_entry(AX)			// scratch is no Init'ed context
	MOVQ	$0, Context_hook(AX)
	MOVQ	(TLS), R14
	CALL	·switchRegs(SB)				// Switch(scratch, c.Link), for good
	INT	$3					// unreachable: nothing switches to scratch
nolink:
	CALL	·noLink(SB)				// throws
	INT	$3

// func textAddrs() (regs, from, call, tramp, trampEntry uintptr)
//
// The ABI0 entry points themselves: Go's function values would give the
// addresses of ABI wrappers instead.
TEXT ·textAddrs(SB), NOSPLIT|NOFRAME, $0-40
	LEAQ	·switchRegs(SB), AX
	MOVQ	AX, regs+0(FP)
	LEAQ	·switchFrom(SB), AX
	MOVQ	AX, from+8(FP)
	LEAQ	·call(SB), AX
	MOVQ	AX, call+16(FP)
	LEAQ	·trampoline(SB), AX
	MOVQ	AX, tramp+24(FP)
	LEAQ	·trampolineEntry(SB), AX
	MOVQ	AX, trampEntry+32(FP)
	RET

// func abiProbe()
//
// Called as switchRegs is (checkRegisterABI): records the registers
// switchRegs relies on. g's word stays zero unless X15 is.
TEXT ·abiProbe(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ	AX, ·abiSeen+0(SB)
	MOVQ	BX, ·abiSeen+8(SB)
	MOVQ	$0, ·abiSeen+16(SB)
	PTEST	X15, X15
	JNE	nonzero
	MOVQ	R14, ·abiSeen+16(SB)
nonzero:
	RET

// func abiProbePC() uintptr
TEXT ·abiProbePC(SB), NOSPLIT|NOFRAME, $0-8
	LEAQ	·abiProbe(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
