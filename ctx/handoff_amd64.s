// The goroutine handoff for amd64. See handoff.go.

#include "textflag.h"
#include "go_asm.h"

// func hooked()
//
// switchFrom jumps here for a hook context, with its registers as it
// received them: AX = from, BX = to, DX = to.hook, DI = the PC from
// resumes at, SI = its SP, BP = its frame pointer. Tail-call the hook, a
// Go closure, with the stack as the code that called Switch left it: it
// returns straight there.
TEXT ·hooked(SB), NOSPLIT|NOFRAME, $0-0
	LEAQ	-8(SI), SP				// the return PC on top
	MOVQ	(TLS), R14				// Go code expects g in R14...
	XORPS	X15, X15				// ...and zero in X15
	MOVQ	0(DX), AX				// DX: the closure context register
	JMP	AX
