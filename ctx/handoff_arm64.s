// The goroutine handoff for arm64: the common case of the runtime's
// coroutine switch (runtime.coroswitch_m), done on the current stack
// instead of on g0 after an mcall. See handoff.go and handoff_amd64.s;
// docs/design.md has the reasons for each step and its order.

#include "textflag.h"
#include "go_asm.h"

// IN_SWITCHS_PLACE runs the Go closure in R26 in place of the Switch whose
// caller has RSP as its SP, R30 as the return PC into it and R29 as its
// frame pointer: the closure returns through hookReturn, which returns to
// Switch's caller with R0 = 1 (see amd64). It first builds hookReturn's
// frame as a prologue would: the return PC at 0(RSP), the caller's frame
// pointer one word below, and R29 pointing at it.
#define IN_SWITCHS_PLACE \
	SUB	$16, RSP; \
	MOVD	R30, 0(RSP); \
	MOVD	R29, -8(RSP); \
	SUB	$8, RSP, R29; \
	MOVD	$·hookReturn+4(SB), R30; \
	MOVD	0(R26), R2; \
	JMP	(R2)

// func hooked()
//
// The switch (switchRegs, or switchFrom for Call's redirect) jumps here
// for a hook context, with: R0 = from, R1 = to, R26 = to.hook, and RSP,
// R30 and R29 as the code that called Switch left them (R6 = RSP and
// R5 = R30 too). A handoff point goes to its own entry, which Switch's
// variants for the points (SwitchToResumePoint, SwitchToYieldPoint) call
// directly; any other hook context has its hook called.
TEXT ·hooked(SB), NOSPLIT|NOFRAME, $0-0
	MOVD	Context_kind(R1), R8
	CMP	$const_kindResume, R8
	BEQ	resume
	CMP	$const_kindYield, R8
	BEQ	yield
	IN_SWITCHS_PLACE
resume:
	JMP	·handoffResume(SB)
yield:
	JMP	·handoffYield(SB)

// func handoffResume()
//
// SwitchToResumePoint's entry, entered as switchRegs is: R0 = from (not
// used: a handoff keeps the state it suspends in the g), R1 = to,
// R30 = the return PC into Switch's caller, RSP its SP. to is a resume
// point: hand the turn to the body if the body is suspended. Any other to
// has its hook called (otherPoint).
TEXT ·handoffResume(SB), NOSPLIT|NOFRAME, $0-0
	MOVD	Context_kind(R1), R2
	CMP	$const_kindResume, R2
	BNE	other
	MOVD	Context_hand(R1), R8			// R8 = h
	MOVD	Handoff_turn(R8), R9
	CMP	$const_TurnSuspended, R9		// only while the body is suspended
	BNE	refuse
	MOVD	Handoff_body(R8), R9			// R9 = the next turn: the body's (0 until it starts)
	MOVD	$·landResume(SB), R10			// R10 = where gp continues
	MOVD	g, R3					// R3 = gp
	MOVD	Context_coro(R1), R7			// R7 = c, copied into the point: one load fewer
	MOVD	const_coroGP(R7), R14			// R14 = gnext, the goroutine blocked in c
	MOVD	$·landYield(SB), R6			// R6 = where the body waits if this code suspended it,
	CMP	R9, R14					// and its check there passes: the turn is its own
	BNE	unstarted
	JMP	·handoff(SB)
unstarted:
	MOVD	ZR, R6					// no landing pad
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
	MOVD	Context_kind(R1), R2
	CMP	$const_kindYield, R2
	BNE	other
	MOVD	Context_hand(R1), R8			// R8 = h
	MOVD	Handoff_turn(R8), R9
	CMP	g, R9					// only the body, while it has the turn
	BNE	refuse
	MOVD	$const_TurnSuspended, R9		// R9 = the next turn
	MOVD	$·landYield(SB), R10			// R10 = where gp continues
	MOVD	g, R3					// R3 = gp
	MOVD	Context_coro(R1), R7			// R7 = c
	MOVD	const_coroGP(R7), R14			// R14 = gnext
	MOVD	$·landResume(SB), R6			// R6 = where the resumer waits if this code suspended
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
	MOVD	Context_hand(R1), R8
	CBZ	R8, hook
	MOVD	Handoff_fallbacks(R8), R2
	ADD	$1, R2
	MOVD	R2, Handoff_fallbacks(R8)
hook:
	JMP	·callHook(SB)

// func refused()
//
// A handoff refused: the point's hook hands over through the runtime.
// R8 = h, R1 = to, RSP and R30 as Switch's caller left them.
TEXT ·refused(SB), NOSPLIT|NOFRAME, $0-0
	MOVD	Handoff_fallbacks(R8), R2
	ADD	$1, R2
	MOVD	R2, Handoff_fallbacks(R8)
	JMP	·callHook(SB)

// func callHook()
//
// Calls to's hook (R1 = to) in Switch's place; a to with none is a
// caller's bug: throw.
TEXT ·callHook(SB), NOSPLIT|NOFRAME, $0-0
	MOVD	Context_hook(R1), R26			// R26: the closure context register
	CBZ	R26, none
	IN_SWITCHS_PLACE
none:
	JMP	·notHookContext(SB)

// func handoff()
//
// Switches from gp, the calling goroutine, to gnext, the goroutine blocked
// in h's runtime coroutine c, as its entry has set up: R1 = to, R3 = gp,
// R7 = c, R8 = h, R9 = the next turn, R10 = where gp continues,
// R14 = gnext, R6 = the landing pad gnext waits at if this code suspended
// it and this switch passes that pad's check (else 0), RSP and R30 as
// Switch's caller left them. See handoff_amd64.s.
TEXT ·handoff(SB), NOSPLIT|NOFRAME, $0-0
	// Leave the switch to the runtime whenever it must see it (see
	// handoff_amd64.s). Nothing below changes any state until the status
	// CAS, so every refusal leaves the switch to the hook as if never tried.
	MOVD	·traceGate(SB), R11
	MOVBU	(R11), R11				// runtime.trace.enabled
	MOVD	·profileGate(SB), R13
	MOVBU	(R13), R13				// runtime.goroutineProfile.active
	ORR	R13, R11
	MOVD	const_gM(R3), R12			// R12 = mp
	MOVWU	const_mLocks(R12), R13
	ORR	R13, R11
	MOVWU	const_gSecret(R3), R13
	ORR	R13, R11
	MOVD	const_gLockedM(R3), R13
	ORR	R13, R11
	MOVD	const_gBubble(R3), R13
	ORR	R13, R11
	MOVD	Handoff_slow(R8), R13			// the owner's wish, or c made on a locked thread
	ORR	R13, R11
	CBNZ	R11, refuse
	CBZ	R14, refuse				// none (it exited) or gp itself: let the
	CMP	R3, R14					// runtime report it
	BEQ	refuse

	// Suspend gp as mcall would, but at the entry of a landing pad entered
	// as if called from Switch's caller: the return PC in sched.lr (LR),
	// SP as Switch's caller had it. Everything is written before the
	// status CAS: from then on the GC may scan gp.
	MOVD	RSP, R0
	MOVD	R0, (const_gSched+const_gobufSP)(R3)
	MOVD	R10, (const_gSched+const_gobufPC)(R3)
	MOVD	R30, (const_gSched+const_gobufLR)(R3)
	MOVD	R29, (const_gSched+const_gobufBP)(R3)
	MOVD	R8, (const_gSched+const_gobufCtxt)(R3)	// a saved register: a stack root, no write barrier
	MOVD	$const_waitCoroutine, R13
	MOVB	R13, const_gWaitReason(R3)
	ADD	$const_gAtomicStatus, R3, R15		// R15 = &gp.atomicstatus
	MOVW	$const_gWaiting, R16
casgp:
	LDAXRW	(R15), R13				// gp: running -> waiting
	CMPW	$const_gRunning, R13
	BNE	busy					// a GC scan bit: the runtime waits for it
	STLXRW	R16, (R15), R17
	CBNZW	R17, casgp

	// gp waits from here on. The GC may scan it, and even shrink its stack
	// (copy and free it) while this code still runs on it: no instruction
	// below may touch gp's stack.
	MOVD	R12, const_gM(R14)			// A signal handler reads g and dereferences
	MOVD	R14, const_mCurg(R12)			// g.m at once: gnext.m before g is gnext,
	MOVD	R14, g
	MOVD	ZR, const_gM(R3)			// and gp.m cleared only after.
	ADD	$const_gAtomicStatus, R14, R15		// R15 = &gnext.atomicstatus
	MOVW	$const_gRunning, R16
wake:
	LDAXRW	(R15), R13				// gnext: waiting -> running
	CMPW	$const_gWaiting, R13
	BNE	scanned
	STLXRW	R16, (R15), R17
	CBNZW	R17, wake
	// Only the goroutine with the turn reads c.gp and the turn, and gnext
	// has not run yet: these stores wait until after the status changes.
	MOVD	R3, const_coroGP(R7)			// gp is now the goroutine blocked in c
	MOVD	R9, Handoff_turn(R8)
	// Continue gnext as the runtime's gogo does: at a landing pad, inside
	// runtime.coroswitch (suspended by the runtime), or at its start
	// (corostart: its closure in R26, and goexit in LR as its return PC).
	MOVD	(const_gSched+const_gobufSP)(R14), R0
	MOVD	R0, RSP					// now on gnext's stack
	MOVD	(const_gSched+const_gobufBP)(R14), R29
	MOVD	(const_gSched+const_gobufLR)(R14), R30
	MOVD	(const_gSched+const_gobufCtxt)(R14), R26
	MOVD	(const_gSched+const_gobufPC)(R14), R4
	MOVD	ZR, (const_gSched+const_gobufCtxt)(R14)	// as gogo: save checks that a running goroutine
							// has no ctxt (nothing reads its sp, bp or lr)
	// At the landing pad R6, whose check the entry made sure this switch
	// makes true, do what the pad would: return to its Switch's caller, one
	// jump fewer.
	CMP	R6, R4
	BEQ	direct
	CMP	ZR, ZR					// as gogo: flags for a stack-split check
	JMP	(R4)
direct:
	MOVD	$1, R0					// Switch's result (see hookReturn)
	JMP	(R30)					// the return PC into Switch's caller
scanned:
	CMPW	$const_gScanWaiting, R13		// the GC is scanning gnext: wait, as casgstatus does
	BNE	raced
	YIELD
	B	wake

refuse:
	JMP	·refused(SB)
busy:
	CLREX
	MOVD	ZR, (const_gSched+const_gobufCtxt)(R3)	// gp still runs: no ctxt, as above
	JMP	·refused(SB)
raced:
	// gnext came out of c, so it waits there or is being scanned; any other
	// status means two goroutines switched through c at once. Neither
	// stack can be trusted: throw on the thread's g0 stack.
	MOVD	const_mG0(R12), g
	MOVD	(const_gSched+const_gobufSP)(g), R0
	MOVD	R0, RSP
	CALL	·handoffRaced(SB)
	UNDEF						// unreachable: handoffRaced throws

// func landResume()
//
// Where a goroutine suspended by a switch to a resume point continues, by
// the jump above or the runtime's gogo: R26 = h (sched.ctxt), LR = the
// return PC into Switch's caller. While the turn is TurnSuspended (the body
// handed it back) return; otherwise (the body ended) afterResume runs in
// Switch's place and returns to its caller.
TEXT ·landResume(SB), NOSPLIT|NOFRAME, $0-0
	MOVD	Handoff_turn(R26), R0
	CMP	$const_TurnSuspended, R0
	BNE	after
	MOVD	$1, R0					// Switch's result (see hookReturn)
	JMP	(R30)					// a jump, not a RET: the return stack holds the other goroutine's calls
after:
	MOVD	Handoff_afterResume(R26), R26
	IN_SWITCHS_PLACE

// func landYield()
//
// The same for a goroutine suspended by a switch to a yield point (the
// body): it returns while it holds the turn; otherwise (Close) afterYield
// runs in Switch's place.
TEXT ·landYield(SB), NOSPLIT|NOFRAME, $0-0
	MOVD	Handoff_turn(R26), R0
	CMP	g, R0
	BNE	after
	MOVD	$1, R0
	JMP	(R30)
after:
	MOVD	Handoff_afterYield(R26), R26
	IN_SWITCHS_PLACE

// func hookReturn()
//
// Where a Go closure run in a Switch's place returns, at hookReturn+4: it
// returns to Switch's caller in turn, with R0 = 1 (see amd64). Its first
// instruction never runs: it stands for the frame IN_SWITCHS_PLACE builds.
TEXT ·hookReturn(SB), NOSPLIT|NOFRAME|WRAPPER, $0-0
	SUB	$16, RSP				// never runs (see above)
	MOVD	8(R29), R30				// hookReturn+4: the return PC into Switch's caller
	MOVD	(R29), R29				// and its frame pointer (R29 = RSP-8 here)
	ADD	$16, RSP
	MOVD	$1, R0					// true
	JMP	(R30)

// func handoffAddrs() (hooked, resume, yield, body, landResume, landYield, hookReturn uintptr):
// the ABI0 entry points themselves, for Routines and Switch's variants.
TEXT ·handoffAddrs(SB), NOSPLIT|NOFRAME, $0-56
	MOVD	$·hooked(SB), R0
	MOVD	R0, hooked+0(FP)
	MOVD	$·handoffResume(SB), R0
	MOVD	R0, resume+8(FP)
	MOVD	$·handoffYield(SB), R0
	MOVD	R0, yield+16(FP)
	MOVD	$·handoff(SB), R0
	MOVD	R0, body+24(FP)
	MOVD	$·landResume(SB), R0
	MOVD	R0, landResume+32(FP)
	MOVD	$·landYield(SB), R0
	MOVD	R0, landYield+40(FP)
	MOVD	$·hookReturn(SB), R0
	MOVD	R0, hookReturn+48(FP)
	RET
