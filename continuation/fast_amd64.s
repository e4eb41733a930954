// The fast paths of Run and Yield for amd64: see fast.go. Both are entered
// as ctx.Switch is (SP+0 the return PC into the caller, the arguments
// above it), and leave by jumping either into ctx's switch (switchFrom,
// with its inputs in registers, as ctx.Switch passes them) or to ctx.call,
// with all of its arguments in place.

#include "textflag.h"
#include "go_asm.h"

// func run(c *Continuation, from, to *ctx.Context, live uintptr) (ok bool)
TEXT ·run(SB), NOSPLIT|NOFRAME, $0-33
	MOVQ	c+0(FP), BX
	MOVQ	Continuation_cont(BX), AX		// k
	CMPQ	cont_fast(AX), $const_fastSuspended	// suspended in a Yield to itself, not done
	JNE	slow
	MOVQ	(TLS), CX
	CMPQ	const_gStkTopSP(CX), $const_regionTopSP	// in a region: a Switch to a context that
	JNE	slow					// cannot run would throw, not panic with k mounted
	MOVQ	cont_car(AX), CX
	CMPQ	carrier_lazy(CX), $0			// one continuation mounted the fast way at a time
	JNE	slow
	MOVQ	AX, carrier_lazy(CX)			// mount k: the innermost from here on
	MOVQ	$const_fastMounted, cont_fast(AX)
	MOVQ	Continuation_from(BX), AX		// from: Run's caller,
	MOVQ	Continuation_to(BX), BX			// to: k's stack,
	MOVQ	0(SP), DI				// resuming at our return PC,
	LEAQ	8(SP), SI				// with SP as our RET would leave it,
	JMP	github·com∕corokit∕corokit∕ctx·switchFrom(SB)	// and BP, the caller's frame pointer
slow:
	MOVQ	c+0(FP), AX
	MOVQ	Continuation_run(AX), AX		// ctx.call(c.run, ...)
	MOVQ	AX, c+0(FP)
	JMP	github·com∕corokit∕corokit∕ctx·call(SB)

// func yield(s *Scope, from, to *ctx.Context, live uintptr) (ok bool)
TEXT ·yield(SB), NOSPLIT|NOFRAME, $0-33
	MOVQ	s+0(FP), AX
	MOVQ	Scope_last(AX), AX			// k: s's continuation mounted last, anywhere
	TESTQ	AX, AX
	JEQ	slow
	CMPQ	SP, cont_lo(AX)				// on k's own stack, so on k's goroutine?
	JCS	slow
	CMPQ	SP, cont_hi(AX)
	JCC	slow
	CMPQ	cont_fast(AX), $const_fastMounted	// mounted the fast way: the innermost
	JNE	slow
	CMPQ	cont_pins(AX), $0			// not in a critical section
	JNE	slow
	MOVQ	cont_car(AX), CX
	MOVQ	$0, carrier_lazy(CX)			// unmount k
	MOVQ	$const_fastSuspended, cont_fast(AX)
	MOVB	$1, ok+32(FP)				// what Yield returns when resumed
	MOVQ	cont_parentC(AX), BX			// to: Run's caller
	MOVQ	cont_selfC(AX), AX			// from: k, as Switch leaves it
	MOVQ	0(SP), DI
	LEAQ	8(SP), SI
	JMP	github·com∕corokit∕corokit∕ctx·switchFrom(SB)
slow:
	MOVQ	s+0(FP), AX
	MOVQ	Scope_yield(AX), AX			// ctx.call(s.yield, ...)
	MOVQ	AX, s+0(FP)
	JMP	github·com∕corokit∕corokit∕ctx·call(SB)
