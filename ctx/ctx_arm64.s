// The context switch for arm64. See ctx.go for the Context layout and
// docs/design.md for why each g field travels with its stack.

#include "textflag.h"
#include "funcdata.h"
#include "go_asm.h"

// func switchRegs()
//
// The switch, entered by Switch's call through a func value (ctx.go), so
// with the internal register ABI: R0 = from, R1 = to, LR (R30) = the
// return PC into the caller, RSP = the caller's SP, g in R28 (as in every
// Go ABI on arm64):
//
//	RSP+0   the caller's saved LR (not ours to touch)
//	R30     return PC into the caller      -> from.pc (from.sp = RSP)
//
// from resumes as if the call had returned, with R0 = 1, as on every way
// back from the switch (hookReturn). The switch never returns itself: it
// leaves through a jump to to.pc. Its checks are amd64's
// (ctx_amd64.s), in the same order.
TEXT ·switchRegs(SB), NOSPLIT|NOFRAME, $0-0
	MOVD	R30, R5					// from resumes at LR,
	MOVD	RSP, R6					// with our SP, and R29, the caller's frame pointer
	MOVD	Context_hook(R1), R26			// R26: the closure context register
	CBNZ	R26, hook				// a hook context: call Go instead
	MOVD	const_gStkTopSP(g), R8
	ADD	g, R8					// g+1 inside a region, even outside
	MOVD	Context_state(R1), R2
	CMP	R2, R8					// to is ours, suspended, with no chains
	BNE	slowto
	LDP	const_gStackLo(g), (R2, R3)		// from describes the running stack
	LDP	Context_lo(R0), (R4, R7)
	CMP	R2, R4
	BNE	slowfrom
	CMP	R3, R7
	BNE	slowfrom
fromok:
	MOVD	const_gDefer(g), R2			// any defer or panic record to move?
	MOVD	const_gPanic(g), R3
	ORR	R3, R2
	CBNZ	R2, chains				// rare: open-coded defers make no records
regs:
	STP	(R6, R5), Context_sp(R0)		// from.sp, from.pc
	MOVD	R29, Context_bp(R0)
	MOVD	R8, Context_state(R0)			// from is suspended
	MOVD	g, Context_state(R1)			// to runs from here on
	LDP	Context_lo(R1), (R2, R3)		// the runtime must see the stack that runs:
	STP	(R2, R3), const_gStackLo(g)		// signal handlers, morestack and tracebacks
	MOVD	Context_guard(R1), R4			// compare SP with these bounds
	MOVD	R4, const_gStackGuard0(g)
	LDP	Context_sp(R1), (R2, R3)		// to.sp, to.pc
	MOVD	Context_bp(R1), R29
	MOVD	R2, RSP					// now on to's stack
	MOVD	$1, R0					// a result, for callers that want one (hookReturn)
	JMP	(R3)					// R1 still holds to, for the trampoline

hook:
	JMP	·hooked(SB)				// handoff_arm64.s: a goroutine handoff, or the hook

slowto:
	// Which check failed? A context suspended with chains is no failure.
	MOVD	const_gStkTopSP(g), R2
	CMP	$const_regionTopSP, R2
	BNE	outside
	MOVD	Context_state(R1), R2
	EOR	g, R2					// the flags, if to is this goroutine's
	CMP	$(const_suspended|const_withChains), R2
	BEQ	chains
	BHI	foreign					// another goroutine's, or never saved
	MOVD	Context_entry(R0), R4			// to is running or finished; but first,
	CBZ	R4, notready				// as above, a from made by Init must be running
	MOVD	Context_lo(R0), R4
	MOVD	const_gStackLo(g), R3
	CMP	R4, R3
	BNE	notrunning
	B	notready

slowfrom:
	// from's bounds differ from the running stack's: a context made by
	// Init must be running; any other takes them over.
	MOVD	Context_entry(R0), R4
	CBNZ	R4, notrunning
	LDP	const_gStackLo(g), (R2, R3)
	STP	(R2, R3), Context_lo(R0)
	ADD	$const_stackGuard, R2
	MOVD	R2, Context_guard(R0)
	B	fromok

chains:
	// Move the chains in Go, with write barriers (g is a heap object the
	// collector may be scanning). swapChains also makes the from check if
	// the fast path has not, and sets from.state.
	SUB	$48, RSP				// (Go code preserves R29)
	MOVD	R30, 0(RSP)				// the call below overwrites LR
	MOVD	R0, 8(RSP)
	MOVD	R1, 16(RSP)
	MOVD	R5, 24(RSP)
	MOVD	R6, 32(RSP)
	CALL	·swapChains(SB)
	MOVD	0(RSP), R30
	MOVD	8(RSP), R0
	MOVD	16(RSP), R1
	MOVD	24(RSP), R5
	MOVD	32(RSP), R6
	ADD	$48, RSP
	MOVD	Context_state(R0), R8
	B	regs

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
// The switch for call's redirect, which jumps to it: R0 = from, R1 = to,
// and the state from resumes with: R5 = PC, R6 = SP, R29 = frame pointer.
// RSP is at or below R6. It makes the registers look as they do at a call
// into switchRegs.
TEXT ·switchFrom(SB), NOSPLIT|NOFRAME, $0-0
	MOVD	R5, R30
	MOVD	R6, RSP
	JMP	·switchRegs(SB)

// func call(fn func(Caller), from, to *Context, live uintptr) (ok bool)
//
// Call's body: it calls fn with a Caller pointing at its own arguments,
// and if fn asked for a switch (Caller.Redirect sets to), makes it as the
// Switch(from, to) that Call's caller would have made. On entry:
//
//	RSP+40  ok      what Call returns: true unless fn says otherwise
//	RSP+32  live    callerLive while fn runs, so that a Caller kept past it fails
//	RSP+24  to      } set by Caller.Redirect
//	RSP+16  from    }
//	RSP+8   fn      <- the Caller
//	RSP+0   the caller's saved LR (not ours to touch)
//	LR      return PC into Call's caller  -> from.pc (from.sp = RSP)
//
// The prologue saves LR and R29 in a frame below, with fn's spill slot.
// fn returns here, so each return goes where its call came from and the
// CPU predicts every one; the switch then leaves with a jump, as Switch
// does, and from resumes in Call's caller, not here.
TEXT ·call(SB), NOSPLIT, $16-33
	NO_LOCAL_POINTERS
	MOVD	ZR, from+8(FP)				// every slot but fn, before fn runs (see amd64)
	MOVD	ZR, to+16(FP)
	MOVD	$const_callerLive, R2
	MOVD	R2, live+24(FP)
	MOVD	$1, R2
	MOVB	R2, ok+32(FP)
	MOVD	fn+0(FP), R26				// R26: the closure context register
	MOVD	$fn+0(FP), R0				// fn's argument: the Caller
	MOVD	0(R26), R2
	CALL	(R2)
	MOVD	ZR, live+24(FP)				// the Caller is dead from here on
	MOVD	to+16(FP), R1
	CBNZ	R1, redirect
	MOVBU	ok+32(FP), R0				// ok in R0 too, for continuation's yield
	RET
redirect:
	MOVD	from+8(FP), R0
	MOVD	$fn+0(FP), R6
	SUB	$8, R6					// from resumes with RSP as at our entry,
	MOVD	0(RSP), R5				// at our return PC (LR, saved by the prologue),
	MOVD	(R29), R29				// with the caller's frame pointer
	JMP	·switchFrom(SB)

// trampolineEntry is where Init points a new context. The trampoline's
// prologue saves LR as its return PC: make it zero, the end of the stack.
TEXT ·trampolineEntry(SB), NOSPLIT|NOFRAME, $0-0
	MOVD	ZR, R30
	JMP	·trampoline(SB)

// func trampoline()
//
// The bottom frame of every context made by Init, entered with R1 = the
// Context. TOPFRAME makes the runtime's unwinder stop here, as at goexit.
//
//	Hi      ...
//	        saved R29 = 0   (prologue, below the frame) ends the frame-pointer chain
//	RSP+16  scratch         a Context that receives this stack's last state
//	RSP+8   c               kept for after entry returns
//	RSP+0   saved LR = 0    (prologue)
//
// Leaving through a scratch context keeps c from ever being marked
// suspended again: a Switch to a finished context throws instead of
// running on a stack that may already belong to someone else.
TEXT ·trampoline(SB), NOSPLIT|TOPFRAME, $136-0	// 8 + contextSize (pc_arm64.go)
	NO_LOCAL_POINTERS				// a raw stack is never scanned: if it is, the unwind must reach the sentinel check
	MOVD	R1, 8(RSP)				// keep c
	MOVD	Context_entry(R1), R26			// R26: the closure context register
	MOVD	0(R26), R0
	CALL	(R0)					// entry()
	MOVD	8(RSP), R2
	MOVD	Context_Link(R2), R1
	CBZ	R1, nolink
	ADD	$16, RSP, R0
	MOVD	ZR, Context_entry(R0)			// scratch is no Init'ed context
	MOVD	ZR, Context_hook(R0)
	CALL	·switchRegs(SB)				// Switch(scratch, c.Link), for good
	UNDEF						// unreachable: nothing switches to scratch
nolink:
	CALL	·noLink(SB)				// throws
	UNDEF

// func textAddrs() (regs, from, call, tramp, trampEntry uintptr)
//
// The ABI0 entry points themselves: Go's function values would give the
// addresses of ABI wrappers instead.
TEXT ·textAddrs(SB), NOSPLIT|NOFRAME, $0-40
	MOVD	$·switchRegs(SB), R0
	MOVD	R0, regs+0(FP)
	MOVD	$·switchFrom(SB), R0
	MOVD	R0, from+8(FP)
	MOVD	$·call(SB), R0
	MOVD	R0, call+16(FP)
	MOVD	$·trampoline(SB), R0
	MOVD	R0, tramp+24(FP)
	MOVD	$·trampolineEntry(SB), R0
	MOVD	R0, trampEntry+32(FP)
	RET

// func abiProbe()
//
// Called as switchRegs is (checkRegisterABI): records the registers
// switchRegs relies on.
TEXT ·abiProbe(SB), NOSPLIT|NOFRAME, $0-0
	MOVD	$·abiSeen(SB), R2
	MOVD	R0, 0(R2)
	MOVD	R1, 8(R2)
	MOVD	g, 16(R2)
	RET

// func abiProbePC() uintptr
TEXT ·abiProbePC(SB), NOSPLIT|NOFRAME, $0-8
	MOVD	$·abiProbe(SB), R0
	MOVD	R0, ret+0(FP)
	RET
