// The fast paths of Run and Yield for amd64: see fast.go. Both are entered
// by a call from Go through a func value (SP+0 the return PC into the
// caller, the spill space for five arguments above it), and leave by
// jumping either into ctx's switch with the stack as they found it (with
// from in AX, to in BX and g in R14, as ctx.Switch's call passes them) or
// to ctx.call, with all of its arguments in place. On the Raw engine the
// switch is switchRegs, ctx.Switch's; on the Goroutine engine to is a
// handoff point of package coro's, and the switch is the entry
// ctx.SwitchToResumePoint or ctx.SwitchToYieldPoint calls, which reads no
// from (the goroutine it suspends keeps its state in its g).

#include "textflag.h"
#include "go_asm.h"

// func run()
//
// Run calls it through runFn, with the register ABI: AX = c, R14 = g,
// X15 = 0, and above the return PC the caller's spill space for runFn's
// five arguments, which is where ctx.call takes its own (fn, from, to,
// live, ok): the slow way stores c.run in the first slot and jumps.
TEXT ·run(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ	Continuation_cont(AX), DX		// k
	MOVQ	cont_fast(DX), CX
	CMPQ	CX, $const_fastSuspended		// Raw, suspended in a Yield to itself, not done
	JNE	goroutine
	CMPQ	const_gStkTopSP(R14), $const_regionTopSP	// in a region: a Switch to a context that
	JNE	slow					// cannot run would throw, not panic with k mounted
	MOVQ	cont_car(DX), CX
	CMPQ	carrier_lazy(CX), $0			// one continuation mounted the fast way at a time
	JNE	slow
	MOVQ	DX, carrier_lazy(CX)			// mount k: the innermost from here on
	MOVQ	$const_fastMounted, cont_fast(DX)
	MOVQ	Continuation_to(AX), BX			// to: k's stack,
	MOVQ	Continuation_from(AX), AX		// from: Run's caller,
	JMP	github·com∕corokit∕corokit∕ctx·switchRegs(SB)	// with our return PC on top, BP the caller's
goroutine:
	CMPQ	CX, $const_goSuspended			// Goroutine engine, the same
	JNE	slow
	MOVQ	const_gGoid(R14), CX
	CMPQ	cont_callerGoid(DX), CX			// the goroutine that last ran k, as its outermost
	JNE	slow
	MOVQ	$const_goMounted, cont_fast(DX)		// mount k, leaving the carrier alone
	MOVQ	Continuation_to(AX), BX			// to: the resume point that resumes k,
	JMP	github·com∕corokit∕corokit∕ctx·handoffResume(SB)	// with our return PC on top, BP the caller's
slow:
	MOVQ	Continuation_run(AX), AX
	MOVQ	AX, 8(SP)				// ctx.call(c.run, ...), in the spill space
	JMP	github·com∕corokit∕corokit∕ctx·call(SB)

// func yield()
//
// Yield calls it through yieldFn, with the register ABI: AX = s, R14 = g,
// X15 = 0, the spill space above the return PC as for run, and the result
// in AX, which the switch leaves true on every way back (ctx's
// hookReturn) and ctx.call sets to its own.
//
// k is the innermost continuation mounted on the calling goroutine: outside
// a region, s.last if Run's fast path mounted it (goMounted, which only a
// continuation whose body has started, and so has its cont.car, can be)
// and its own carrier is this goroutine's and holds it innermost; else
// found through the goroutine's carrier in carrierFor's table (hashed as
// slot does; a carrier in the overflow map takes the slow way): Raw, the
// one Run's fast path mounted (carrier.lazy); Goroutine engine, the
// carrier's cur. It must be of scope s, which s.last always is (makeLast
// stores k in k.scope.last).
TEXT ·yield(SB), NOSPLIT|NOFRAME, $0-0
	CMPQ	const_gStkTopSP(R14), $const_regionTopSP	// in a region (Raw), the table way, which
	JEQ	table					// measured faster there (fast.go)
	MOVQ	Scope_lastTo(AX), BX			// k.parentC, if k = s.last: see to
	MOVQ	Scope_last(AX), R9			// k = s.last, if mounted the fast way and
	TESTQ	R9, R9					// innermost on this goroutine by its own
	JEQ	table					// carrier:
	CMPQ	cont_fast(R9), $const_goMounted		// (goMounted: its body has started, so
	JNE	table					// cont.car is set)
	MOVQ	cont_car(R9), DX
	MOVQ	const_gGoid(R14), R8
	CMPQ	carrier_goid(DX), R8			// the carrier is this goroutine's
	JNE	table
	CMPQ	carrier_cur(DX), R9			// and holds k innermost,
	JNE	table
	CMPQ	carrier_lazy(DX), $0			// with nothing mounted the fast way inside
	JNE	table
innermost:
	CMPQ	cont_pins(R9), $0			// not in a critical section,
	JNE	slow
	CMPQ	const_gLockedM(R14), $0			// not locked to its thread (the handoff would throw)
	JNE	slow
	MOVQ	$const_goSuspended, cont_fast(R9)	// unmount k
	MOVQ	cont_parentC(R9), R8			// to: the yield point that hands back;
	CMPQ	R8, BX					// if BX (s.lastTo) holds the same, the switch
	JEQ	to					// goes on with BX, not waiting for the loads
	MOVQ	R8, BX					// that found k (the branch is predicted)
to:
	JMP	github·com∕corokit∕corokit∕ctx·handoffYield(SB)
table:
	MOVQ	R14, DX
	SHRQ	$4, DX
	MOVQ	$0x9E3779B97F4A7C15, R8
	IMULQ	R8, DX
	SHRQ	$(64-const_tableBits), DX
	LEAQ	·table(SB), R8
	MOVQ	(R8)(DX*8), DX				// the carrier in g's slot,
	TESTQ	DX, DX
	JEQ	slow
	MOVQ	const_gGoid(R14), R8
	CMPQ	carrier_goid(DX), R8			// if it is this goroutine's
	JNE	slow
	MOVQ	carrier_lazy(DX), R9			// Raw: k, mounted the fast way
	TESTQ	R9, R9
	JEQ	goroutine
	CMPQ	cont_scope(R9), AX			// of s,
	JNE	slow
	CMPQ	SP, cont_lo(R9)				// running on k's own stack (not on a stack
	JCS	slow					// that k's body switched to),
	CMPQ	SP, cont_hi(R9)
	JCC	slow
	CMPQ	cont_pins(R9), $0			// not in a critical section
	JNE	slow
	MOVQ	$0, carrier_lazy(DX)			// unmount k
	MOVQ	$const_fastSuspended, cont_fast(R9)
	MOVQ	cont_parentC(R9), BX			// to: Run's caller,
	MOVQ	cont_selfC(R9), AX			// from: k, as Switch leaves it
	JMP	github·com∕corokit∕corokit∕ctx·switchRegs(SB)
goroutine:
	MOVQ	carrier_cur(DX), R9			// Goroutine engine: k, innermost on its body goroutine,
	TESTQ	R9, R9
	JEQ	slow
	CMPQ	cont_scope(R9), AX			// of s (as s.last always is),
	JNE	slow
	CMPQ	cont_fast(R9), $const_goMounted		// mounted the fast way,
	JEQ	innermost
slow:
	MOVQ	Scope_yield(AX), AX			// ctx.call(s.yield, ...)
	MOVQ	AX, 8(SP)
	JMP	github·com∕corokit∕corokit∕ctx·call(SB)

// func textAddrs() (run, yield uintptr): the ABI0 entry points themselves,
// for Routines (Go's function values would give ABI wrappers).
TEXT ·textAddrs(SB), NOSPLIT|NOFRAME, $0-16
	LEAQ	·run(SB), AX
	MOVQ	AX, run+0(FP)
	LEAQ	·yield(SB), AX
	MOVQ	AX, yield+8(FP)
	RET
