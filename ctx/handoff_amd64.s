// The goroutine handoff for amd64: the common case of the runtime's
// coroutine switch (runtime.coroswitch_m), done on the current stack
// instead of on g0 after an mcall. See handoff.go, and docs/design.md for
// why each step is there and in this order.

#include "textflag.h"
#include "go_asm.h"

// IN_SWITCHS_PLACE runs the Go closure in DX in place of the Switch whose
// caller's return PC is at 0(SP), with BP that caller's frame pointer: the
// closure returns through hookReturn, which returns to Switch's caller with
// AX = 1 (see hookReturn). It first builds hookReturn's frame, as
// hookReturn's unexecuted first instruction would have: the frame pointer
// chain and the unwinders then go through it to Switch's caller.
#define IN_SWITCHS_PLACE \
	PUSHQ	BP; \
	MOVQ	SP, BP; \
	LEAQ	·hookReturn+1(SB), R13; \
	PUSHQ	R13; \
	MOVQ	0(DX), R13; \
	JMP	R13

// func hooked()
//
// The switch (switchRegs, which switchFrom enters for Call's redirect)
// jumps here for a hook context, with: AX = from, BX = to, DX = to.hook,
// R14 = g, X15 = 0, and SP at the return PC into Switch's caller (SI just
// above it). A handoff point goes to its own entry, which Switch's
// variants for the points (SwitchToResumePoint, SwitchToYieldPoint) call
// directly; any other hook context has its hook called.
TEXT ·hooked(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ	Context_kind(BX), R8
	CMPQ	R8, $const_kindResume
	JEQ	resume
	CMPQ	R8, $const_kindYield
	JEQ	yield
	IN_SWITCHS_PLACE
resume:
	JMP	·handoffResume(SB)
yield:
	JMP	·handoffYield(SB)

// func handoffResume()
//
// SwitchToResumePoint's entry, entered as switchRegs is: AX = from (not
// used: a handoff keeps the state it suspends in the g), BX = to,
// R14 = g, X15 = 0, SP at the return PC into Switch's caller. to is a
// resume point: hand the turn to the body if the body is suspended. Any
// other to has its hook called (otherPoint).
TEXT ·handoffResume(SB), NOSPLIT|NOFRAME, $0-0
	CMPQ	Context_kind(BX), $const_kindResume
	JNE	other
	MOVQ	Context_hand(BX), R8			// R8 = h
	CMPQ	Handoff_turn(R8), $const_TurnSuspended	// only while the body is suspended
	JNE	refuse
	MOVQ	Handoff_body(R8), R9			// R9 = the next turn: the body's (0 until it starts)
	LEAQ	·landResume(SB), R10			// R10 = where gp continues
	MOVQ	R14, CX					// CX = gp
	MOVQ	Context_coro(BX), DI			// DI = c, copied into the point: one load fewer
	MOVQ	const_coroGP(DI), R14			// R14 = gnext, the goroutine blocked in c
	LEAQ	·landYield(SB), SI			// SI = where the body waits if this code suspended it,
	CMPQ	R9, R14					// and its check there passes: the turn is its own
	JNE	unstarted
	JMP	·handoff(SB)
unstarted:
	XORL	SI, SI					// no landing pad
	JMP	·handoff(SB)
refuse:
	JMP	·refused(SB)
other:
	JMP	·otherPoint(SB)

// func handoffYield()
//
// SwitchToYieldPoint's entry, the same for a yield point: hand the turn
// back to the resumer if the body, the calling goroutine, has it.
TEXT ·handoffYield(SB), NOSPLIT|NOFRAME, $0-0
	CMPQ	Context_kind(BX), $const_kindYield
	JNE	other
	MOVQ	Context_hand(BX), R8			// R8 = h
	CMPQ	Handoff_turn(R8), R14			// only the body, while it has the turn
	JNE	refuse
	MOVQ	$const_TurnSuspended, R9		// R9 = the next turn
	LEAQ	·landYield(SB), R10			// R10 = where gp continues
	MOVQ	R14, CX					// CX = gp
	MOVQ	Context_coro(BX), DI			// DI = c
	MOVQ	const_coroGP(DI), R14			// R14 = gnext
	LEAQ	·landResume(SB), SI			// SI = where the resumer waits if this code suspended
	JMP	·handoff(SB)				// it, its check there (TurnSuspended) passing
refuse:
	JMP	·refused(SB)
other:
	JMP	·otherPoint(SB)

// func otherPoint()
//
// A switch through one of the entries above to a context that is not the
// entry's kind of point: its hook runs, and a point of the other kind
// counts the switch as one its Handoff left to the hook.
TEXT ·otherPoint(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ	Context_hand(BX), R8
	TESTQ	R8, R8
	JEQ	hook
	INCQ	Handoff_fallbacks(R8)
hook:
	JMP	·callHook(SB)

// func refused()
//
// A handoff refused: the point's hook hands over through the runtime.
// R8 = h, BX = to, SP at the return PC.
TEXT ·refused(SB), NOSPLIT|NOFRAME, $0-0
	INCQ	Handoff_fallbacks(R8)
	JMP	·callHook(SB)

// func callHook()
//
// Calls to's hook (BX = to) in Switch's place, SP at the return PC; a to
// with none is a caller's bug: throw.
TEXT ·callHook(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ	Context_hook(BX), DX
	TESTQ	DX, DX
	JEQ	none
	MOVQ	(TLS), R14				// g again: a refused handoff may have used R14
	IN_SWITCHS_PLACE
none:
	JMP	·notHookContext(SB)

// func handoff()
//
// Switches from gp, the calling goroutine, to gnext, the goroutine blocked
// in h's runtime coroutine c, as its entry (handoffResume, handoffYield)
// has set up: BX = to, CX = gp, DI = c, R8 = h, R9 = the next turn,
// R10 = where gp continues, R14 = gnext, SI = the landing pad gnext waits
// at if this code suspended it and this switch passes that pad's check
// (else 0), SP at the return PC.
TEXT ·handoff(SB), NOSPLIT|NOFRAME, $0-0
	// Leave the switch to the runtime whenever it must see it: the tracer
	// records every switch, a goroutine profile must record a goroutine
	// before it runs, locked threads and synctest bubbles have bookkeeping
	// of their own, runtime/secret erases registers, and a pinned M (a
	// Region) must not change goroutines. Only gp's bubble counts: the
	// runtime's switch, too, keeps a bubble's books only for the goroutine
	// that leaves. Nothing below changes any state until the status CAS, so
	// every refusal leaves the switch to the hook as if never tried.
	MOVQ	·traceGate(SB), R11
	MOVBLZX	(R11), R11				// runtime.trace.enabled
	MOVQ	·profileGate(SB), R13
	ORB	(R13), R11				// runtime.goroutineProfile.active
	MOVQ	const_gM(CX), R12			// R12 = mp
	ORL	const_mLocks(R12), R11
	ORL	const_gSecret(CX), R11
	ORQ	const_gLockedM(CX), R11
	ORQ	const_gBubble(CX), R11
	ORQ	Handoff_slow(R8), R11			// the owner's wish, or c made on a locked thread
	JNE	refuse
	TESTQ	R14, R14				// none (it exited) or gp itself: let the
	JEQ	refuse					// runtime report it
	CMPQ	R14, CX
	JEQ	refuse

	// Suspend gp as mcall would, but at the entry of a landing pad that
	// returns to Switch's caller: sched.sp points at the return PC, so the
	// stack is complete for the GC and for tracebacks, and the landing pad
	// learns h from sched.ctxt, a register the runtime's gogo restores too.
	// Everything is written before the status CAS: from then on the GC may
	// scan gp.
	MOVQ	SP, (const_gSched+const_gobufSP)(CX)	// the return PC on top
	MOVQ	R10, (const_gSched+const_gobufPC)(CX)
	MOVQ	BP, (const_gSched+const_gobufBP)(CX)
	MOVQ	R8, (const_gSched+const_gobufCtxt)(CX)	// a saved register: a stack root, no write barrier
	MOVB	$const_waitCoroutine, const_gWaitReason(CX)
	MOVL	$const_gRunning, AX
	MOVL	$const_gWaiting, R13
	LOCK
	CMPXCHGL	R13, const_gAtomicStatus(CX)	// gp: running -> waiting
	JNE	busy					// a GC scan bit: the runtime waits for it

	// gp waits from here on. The GC may scan it, and even shrink its stack
	// (copy and free it) while this code still runs on it: no instruction
	// below may touch gp's stack.
	MOVQ	R12, const_gM(R14)			// A signal handler reads g from TLS and
	MOVQ	R14, const_mCurg(R12)			// dereferences g.m at once: gnext.m before
	MOVQ	TLS, R13				// TLS names gnext,
	MOVQ	R14, 0(R13)(TLS*1)
	MOVQ	$0, const_gM(CX)			// and gp.m cleared only after.
wake:
	MOVL	$const_gWaiting, AX
	MOVL	$const_gRunning, R13
	LOCK
	CMPXCHGL	R13, const_gAtomicStatus(R14)	// gnext: waiting -> running
	JEQ	run
	CMPL	AX, $const_gScanWaiting			// the GC is scanning gnext: wait, as casgstatus does
	JNE	raced
	PAUSE
	JMP	wake
run:
	// Only the goroutine with the turn reads c.gp and the turn, and gnext
	// has not run yet: these stores wait until after the locked
	// instructions, which would wait for them.
	MOVQ	CX, const_coroGP(DI)			// gp is now the goroutine blocked in c
	MOVQ	R9, Handoff_turn(R8)
	// Continue gnext as the runtime's gogo does: it may be at a landing pad,
	// inside runtime.coroswitch (suspended by the runtime), or at its start
	// (corostart, which takes its closure in DX). X15 is still zero.
	MOVQ	(const_gSched+const_gobufCtxt)(R14), DX
	MOVQ	(const_gSched+const_gobufBP)(R14), BP
	MOVQ	(const_gSched+const_gobufSP)(R14), SP	// now on gnext's stack
	MOVQ	(const_gSched+const_gobufPC)(R14), BX
	MOVQ	$0, (const_gSched+const_gobufCtxt)(R14)	// as gogo: save checks that a running goroutine
							// has no ctxt (nothing reads its sp or bp)
	// At the landing pad SI, whose check the entry made sure this switch
	// makes true, do what the pad would: return to its Switch's caller, one
	// jump fewer.
	CMPQ	BX, SI
	JEQ	direct
	JMP	BX
direct:
	POPQ	BX					// the return PC into Switch's caller
	MOVL	$1, AX					// Switch's result (see hookReturn)
	JMP	BX

refuse:
	JMP	·refused(SB)
busy:
	MOVQ	$0, (const_gSched+const_gobufCtxt)(CX)	// gp still runs: no ctxt, as above
	JMP	·refused(SB)
raced:
	// gnext came out of c, so it waits there or is being scanned; any other
	// status means two goroutines switched through c at once. Neither
	// stack can be trusted: throw on the thread's g0 stack.
	MOVQ	const_mG0(R12), R14
	MOVQ	TLS, R13
	MOVQ	R14, 0(R13)(TLS*1)
	MOVQ	(const_gSched+const_gobufSP)(R14), SP
	CALL	·handoffRaced(SB)
	INT	$3					// unreachable: handoffRaced throws

// func landResume()
//
// Where a goroutine suspended by a switch to a resume point continues, by
// the jump above or the runtime's gogo: DX = h (sched.ctxt), SP at the
// return PC into Switch's caller. The body handing the turn back leaves it
// TurnSuspended: return. Anything else (the body ended): afterResume runs
// in Switch's place and returns to its caller.
TEXT ·landResume(SB), NOSPLIT|NOFRAME, $0-0
	CMPQ	Handoff_turn(DX), $const_TurnSuspended
	JEQ	ret
	MOVQ	Handoff_afterResume(DX), DX
	MOVQ	(TLS), R14
	XORPS	X15, X15
	IN_SWITCHS_PLACE
ret:
	MOVL	$1, AX					// Switch's result (see hookReturn)
	POPQ	BX					// a JMP, not a RET: the return stack holds
	JMP	BX					// the other goroutine's calls

// func landYield()
//
// The same for a goroutine suspended by a switch to a yield point (the
// body): it returns while it holds the turn; otherwise (Close) afterYield
// runs in Switch's place.
TEXT ·landYield(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ	(TLS), R14
	CMPQ	Handoff_turn(DX), R14
	JEQ	ret
	MOVQ	Handoff_afterYield(DX), DX
	XORPS	X15, X15
	IN_SWITCHS_PLACE
ret:
	MOVL	$1, AX
	POPQ	BX
	JMP	BX

// func hookReturn()
//
// Where a Go closure run in a Switch's place (IN_SWITCHS_PLACE: a hook, or
// a handoff's afterResume or afterYield) returns, at hookReturn+1: it
// returns to Switch's caller in turn, as every way back from the switch
// does, with AX = 1. Switch itself has no result, but continuation's Yield
// calls the switch's entry points as a function that returns a bool, true
// once it is resumed, and so finds true however the switch came back.
//
// Its first instruction never runs. It stands for the frame that
// IN_SWITCHS_PLACE builds, so that at hookReturn+1 the unwinders find the
// saved frame pointer and, above it, the return PC into Switch's caller.
// WRAPPER: tracebacks, profiles and runtime.Callers leave the frame out,
// so the closure appears called by Switch's caller, as before.
TEXT ·hookReturn(SB), NOSPLIT|NOFRAME|WRAPPER, $0-0
	PUSHQ	BP					// never runs (see above)
	POPQ	BP					// hookReturn+1: the closure returns here
	MOVL	$1, AX					// true
	POPQ	BX					// the return PC into Switch's caller
	JMP	BX

// func handoffAddrs() (hooked, resume, yield, body, landResume, landYield, hookReturn uintptr):
// the ABI0 entry points themselves, for Routines and Switch's variants.
TEXT ·handoffAddrs(SB), NOSPLIT|NOFRAME, $0-56
	LEAQ	·hooked(SB), AX
	MOVQ	AX, hooked+0(FP)
	LEAQ	·handoffResume(SB), AX
	MOVQ	AX, resume+8(FP)
	LEAQ	·handoffYield(SB), AX
	MOVQ	AX, yield+16(FP)
	LEAQ	·handoff(SB), AX
	MOVQ	AX, body+24(FP)
	LEAQ	·landResume(SB), AX
	MOVQ	AX, landResume+32(FP)
	LEAQ	·landYield(SB), AX
	MOVQ	AX, landYield+40(FP)
	LEAQ	·hookReturn(SB), AX
	MOVQ	AX, hookReturn+48(FP)
	RET
