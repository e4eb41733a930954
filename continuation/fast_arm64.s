// The fast paths of Run and Yield for arm64: see fast.go. Both are entered
// by a call from Go through a func value (LR the return PC into the
// caller, the spill space for five arguments above the caller's LR slot),
// and leave by jumping either into ctx's switch with LR and RSP as they
// found them (with from in R0 and to in R1, as ctx.Switch's call passes
// them) or to ctx.call, with all of its arguments in place: switchRegs on
// the Raw engine, on the Goroutine engine the entry for coro's handoff
// point, which reads no from (see amd64). g is R28.

#include "textflag.h"
#include "go_asm.h"

// func run()
//
// Run calls it through runFn, with the register ABI: R0 = c, g in R28,
// and above the caller's LR slot the caller's spill space for runFn's five
// arguments, which is where ctx.call takes its own (fn, from, to, live,
// ok): the slow way stores c.run in the first slot and jumps.
TEXT ·run(SB), NOSPLIT|NOFRAME, $0-0
	MOVD	R0, R7					// c
	MOVD	Continuation_cont(R7), R2		// k
	MOVD	cont_fast(R2), R3
	CMP	$const_fastSuspended, R3		// Raw, suspended in a Yield to itself, not done
	BNE	goroutine
	MOVD	const_gStkTopSP(g), R3
	CMP	$const_regionTopSP, R3			// in a region: a Switch to a context that
	BNE	slow					// cannot run would throw, not panic with k mounted
	MOVD	cont_car(R2), R4
	MOVD	carrier_lazy(R4), R3
	CBNZ	R3, slow				// one continuation mounted the fast way at a time
	MOVD	R2, carrier_lazy(R4)			// mount k: the innermost from here on
	MOVD	$const_fastMounted, R3
	MOVD	R3, cont_fast(R2)
	JMP	switch
goroutine:
	CMP	$const_goSuspended, R3			// Goroutine engine, the same
	BNE	slow
	MOVD	cont_callerGoid(R2), R3
	MOVD	const_gGoid(g), R5
	CMP	R5, R3					// the goroutine that last ran k, as its outermost
	BNE	slow
	MOVD	$const_goMounted, R3			// mount k, leaving the carrier alone
	MOVD	R3, cont_fast(R2)
	MOVD	Continuation_to(R7), R1			// to: the resume point that resumes k,
	JMP	github·com∕corokit∕corokit∕ctx·handoffResume(SB)	// resuming at LR, with our SP and R29
switch:
	MOVD	Continuation_from(R7), R0		// from: Run's caller,
	MOVD	Continuation_to(R7), R1			// to: k's stack,
	JMP	github·com∕corokit∕corokit∕ctx·switchRegs(SB)	// resuming at LR, with our SP and R29
slow:
	MOVD	Continuation_run(R7), R2		// ctx.call(c.run, ...), in the spill space
	MOVD	R2, 8(RSP)
	JMP	github·com∕corokit∕corokit∕ctx·call(SB)

// func yield()
//
// Yield calls it through yieldFn, with the register ABI (see amd64): R0 =
// s, g in R28, the spill space above the saved LR slot, and the result in
// R0.
TEXT ·yield(SB), NOSPLIT|NOFRAME, $0-0
	MOVD	R0, R7
	MOVD	const_gStkTopSP(g), R3
	CMP	$const_regionTopSP, R3			// in a region (Raw): the table way (see amd64)
	BEQ	table
	MOVD	Scope_lastTo(R7), R6			// k.parentC, if k = s.last: see to
	MOVD	Scope_last(R7), R2			// k = s.last, if mounted the fast way and
	CBZ	R2, table				// innermost on this goroutine by its own
	MOVD	cont_fast(R2), R3			// carrier (see amd64):
	CMP	$const_goMounted, R3
	BNE	table
	MOVD	cont_car(R2), R4
	MOVD	carrier_goid(R4), R3
	MOVD	const_gGoid(g), R5
	CMP	R5, R3
	BNE	table
	MOVD	carrier_cur(R4), R3
	CMP	R2, R3
	BNE	table
	MOVD	carrier_lazy(R4), R3
	CBNZ	R3, table
innermost:
	MOVD	cont_pins(R2), R3
	CBNZ	R3, slow				// not in a critical section,
	MOVD	const_gLockedM(g), R3
	CBNZ	R3, slow				// not locked to its thread (the handoff would throw)
	MOVD	$const_goSuspended, R3			// unmount k
	MOVD	R3, cont_fast(R2)
	MOVD	cont_parentC(R2), R1			// to: the yield point that hands back;
	CMP	R1, R6					// if R6 (s.lastTo) holds the same, the switch
	BNE	to					// goes on with R6, not waiting for the loads
	MOVD	R6, R1					// that found k (see amd64)
to:
	JMP	github·com∕corokit∕corokit∕ctx·handoffYield(SB)
table:
	MOVD	g, R4					// the carrier in g's slot (see amd64),
	LSR	$4, R4
	MOVD	$0x9E3779B97F4A7C15, R3
	MUL	R3, R4
	LSR	$(64-const_tableBits), R4
	MOVD	$·table(SB), R3
	MOVD	(R3)(R4<<3), R4
	CBZ	R4, slow
	MOVD	carrier_goid(R4), R3
	MOVD	const_gGoid(g), R5
	CMP	R5, R3					// if it is this goroutine's
	BNE	slow
	MOVD	carrier_lazy(R4), R2			// Raw: k, mounted the fast way
	CBZ	R2, goroutine
	MOVD	cont_scope(R2), R3
	CMP	R7, R3					// of s,
	BNE	slow
	MOVD	RSP, R3
	MOVD	cont_lo(R2), R5
	CMP	R5, R3					// running on k's own stack (not on a stack
	BLO	slow					// that k's body switched to),
	MOVD	cont_hi(R2), R5
	CMP	R5, R3
	BHS	slow
	MOVD	cont_pins(R2), R3
	CBNZ	R3, slow				// not in a critical section
	MOVD	ZR, carrier_lazy(R4)			// unmount k
	MOVD	$const_fastSuspended, R3
	MOVD	R3, cont_fast(R2)
	MOVD	cont_parentC(R2), R1			// to: Run's caller,
	MOVD	cont_selfC(R2), R0			// from: k, as Switch leaves it
	JMP	github·com∕corokit∕corokit∕ctx·switchRegs(SB)
goroutine:
	MOVD	carrier_cur(R4), R2			// Goroutine engine: k, innermost on its body goroutine,
	CBZ	R2, slow
	MOVD	cont_scope(R2), R3
	CMP	R7, R3					// of s (as s.last always is),
	BNE	slow
	MOVD	cont_fast(R2), R3
	CMP	$const_goMounted, R3			// mounted the fast way,
	BEQ	innermost
slow:
	MOVD	Scope_yield(R7), R2			// ctx.call(s.yield, ...), in the spill space
	MOVD	R2, 8(RSP)
	JMP	github·com∕corokit∕corokit∕ctx·call(SB)

// func textAddrs() (run, yield uintptr): the ABI0 entry points themselves,
// for Routines (Go's function values would give ABI wrappers).
TEXT ·textAddrs(SB), NOSPLIT|NOFRAME, $0-16
	MOVD	$·run(SB), R0
	MOVD	R0, run+0(FP)
	MOVD	$·yield(SB), R0
	MOVD	R0, yield+8(FP)
	RET
