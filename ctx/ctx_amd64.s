// The context switch for amd64. See ctx.go for the Context layout and
// docs/design.md for why each g field travels with its stack.

#include "textflag.h"
#include "funcdata.h"
#include "go_asm.h"

// func Switch(from, to *Context)
//
// Go calls Switch directly with the ABI0 convention (no wrapper), so on
// entry the stack holds exactly:
//
//	SP+16  to
//	SP+8   from
//	SP+0   return PC into the caller     -> from.pc (from.sp = SP+8)
//
// from resumes as if Switch had returned: at the return PC, with SP above
// it. Switch itself never returns: it leaves through a JMP to to.pc, so no
// RET is ever predicted with a return address pushed on another stack.
// The caller restores R14 (g) and X15 (zero) itself after an ABI0 call.
TEXT ·Switch(SB), NOSPLIT|NOFRAME, $0-16
	MOVQ	from+0(FP), AX
	MOVQ	to+8(FP), BX
	MOVQ	0(SP), DI				// from resumes at our return PC,
	LEAQ	8(SP), SI				// with SP as our RET would leave it,
	JMP	·switchFrom(SB)				// and BP, the caller's frame pointer

// func switchFrom()
//
// The switch proper, for Switch and call: AX = from, BX = to, and the
// state from resumes with: DI = PC, SI = SP, BP = frame pointer. SP is at
// or below SI.
TEXT ·switchFrom(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ	Context_hook(BX), DX
	TESTQ	DX, DX					// a hook context: call Go instead
	JNE	hook
	MOVQ	(TLS), CX				// CX = g (ABI0 code cannot rely on R14)
	CMPQ	const_gStkTopSP(CX), $const_regionTopSP	// a second stack is sound only in a region
	JNE	outside
	CMPQ	Context_owner(BX), CX			// to must be this goroutine's (0: never saved)
	JNE	foreign
	CMPQ	Context_entry(AX), $0			// a from made by Init must be the running stack
	JEQ	fromok
	MOVQ	Context_lo(AX), DX
	CMPQ	DX, const_gStackLo(CX)
	JNE	notrunning
fromok:
	CMPQ	Context_ready(BX), $0			// to must be suspended: not running, not finished
	JEQ	notready
	MOVQ	const_gDefer(CX), DX			// any defer or panic chain to move?
	ORQ	const_gPanic(CX), DX
	ORQ	Context_deferp(BX), DX
	ORQ	Context_panicp(BX), DX
	JNE	chains					// rare: open-coded defers make no records
regs:
	MOVQ	DI, Context_pc(AX)
	MOVQ	SI, Context_sp(AX)
	MOVQ	BP, Context_bp(AX)
	MOVQ	CX, Context_owner(AX)
	MOVQ	$1, Context_ready(AX)
	MOVQ	$0, Context_ready(BX)			// to runs from here on
	MOVQ	const_gStackLo(CX), DX			// the bounds of the stack being left
	MOVQ	DX, Context_lo(AX)
	MOVQ	const_gStackHi(CX), DX
	MOVQ	DX, Context_hi(AX)
	MOVQ	Context_lo(BX), DX			// the runtime must see the stack that runs:
	MOVQ	DX, const_gStackLo(CX)			// signal handlers, morestack and tracebacks
	MOVQ	Context_hi(BX), SI			// compare SP with these bounds
	MOVQ	SI, const_gStackHi(CX)
	MOVQ	const_gStackGuard0(CX), SI
	CMPQ	SI, $-4096				// unsigned >= -4096: a preemption request,
	JCC	jump					// which must survive the switch
	ADDQ	$const_stackGuard, DX			// else the new stack's prologue limit
	MOVQ	DX, const_gStackGuard0(CX)
jump:
	MOVQ	Context_bp(BX), BP
	MOVQ	Context_sp(BX), SP			// now on to's stack
	MOVQ	Context_pc(BX), DX
	JMP	DX					// BX still holds to, for the trampoline

chains:
	// Move the chains in Go, with write barriers (g is a heap object the
	// collector may be scanning), then switch registers as usual.
	ADJSP	$32					// (Go code preserves BP)
	MOVQ	AX, 0(SP)
	MOVQ	BX, 8(SP)
	MOVQ	DI, 16(SP)
	MOVQ	SI, 24(SP)
	CALL	·swapChains(SB)
	MOVQ	0(SP), AX
	MOVQ	8(SP), BX
	MOVQ	16(SP), DI
	MOVQ	24(SP), SI
	ADJSP	$-32
	MOVQ	(TLS), CX
	JMP	regs

hook:
	JMP	·hooked(SB)				// handoff_amd64.s: a goroutine handoff, or the hook

outside:
	JMP	·notInRegion(SB)			// these throw
foreign:
	JMP	·foreignContext(SB)
notready:
	JMP	·notReady(SB)
notrunning:
	JMP	·notRunning(SB)

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
TEXT ·call(SB), NOSPLIT, $8-33
	NO_LOCAL_POINTERS
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
	RET
redirect:
	MOVQ	from+8(FP), AX
	LEAQ	fn+0(FP), SI				// from resumes with SP as our RET would leave it,
	MOVQ	-8(SI), DI				// at our return PC,
	MOVQ	0(BP), BP				// with the caller's frame pointer
	JMP	·switchFrom(SB)

// trampolineEntry is where Init points a new context: on amd64 Init has
// already written the zero return PC that ends unwinding, so it only jumps.
TEXT ·trampolineEntry(SB), NOSPLIT|NOFRAME, $0-0
	JMP	·trampoline(SB)

// func trampoline()
//
// The bottom frame of every context made by Init, entered from Switch's
// JMP with BX = the Context. TOPFRAME makes the runtime's unwinder stop
// here, as it stops at goexit.
//
//	Hi      ...
//	        0               fake return PC written by Init
//	        saved BP = 0    pushed by the prologue: ends the frame-pointer chain
//	SP+24   scratch         a Context that receives this stack's last state
//	SP+16   c               kept for after entry returns
//	SP+8    c.Link          } arguments of the final Switch(scratch, c.Link)
//	SP+0    &scratch        }
//
// Leaving through a scratch context keeps c from ever being marked ready
// again: a Switch to a finished context throws instead of running on a
// stack that may already belong to someone else.
TEXT ·trampoline(SB), NOSPLIT|TOPFRAME, $120-0
	NO_LOCAL_POINTERS				// a raw stack is never scanned: if it is, the unwind must reach the sentinel check
	MOVQ	BX, 16(SP)				// keep c
	MOVQ	(TLS), R14				// Go code expects g in R14...
	XORPS	X15, X15				// ...and zero in X15
	MOVQ	Context_entry(BX), DX			// DX: the closure context register
	MOVQ	0(DX), AX
	CALL	AX					// entry()
	MOVQ	16(SP), BX
	MOVQ	Context_Link(BX), CX
	TESTQ	CX, CX
	JEQ	nolink
	LEAQ	24(SP), AX
	MOVQ	$0, Context_entry(AX)			// scratch is no Init'ed context
	MOVQ	$0, Context_hook(AX)
	MOVQ	AX, 0(SP)
	MOVQ	CX, 8(SP)
	CALL	·Switch(SB)				// leave for good
	INT	$3					// unreachable: nothing switches to scratch
nolink:
	CALL	·noLink(SB)				// throws
	INT	$3

// func textAddrs() (sw, swFrom, call, tramp, trampEntry uintptr)
//
// The ABI0 entry points themselves: Go's function values would give the
// addresses of ABI wrappers instead.
TEXT ·textAddrs(SB), NOSPLIT|NOFRAME, $0-40
	LEAQ	·Switch(SB), AX
	MOVQ	AX, sw+0(FP)
	LEAQ	·switchFrom(SB), AX
	MOVQ	AX, swFrom+8(FP)
	LEAQ	·call(SB), AX
	MOVQ	AX, call+16(FP)
	LEAQ	·trampoline(SB), AX
	MOVQ	AX, tramp+24(FP)
	LEAQ	·trampolineEntry(SB), AX
	MOVQ	AX, trampEntry+32(FP)
	RET
