// The goroutine handoff for arm64. See handoff.go.

#include "textflag.h"
#include "go_asm.h"

// func hooked()
//
// switchFrom jumps here for a hook context, with its registers as it
// received them: R0 = from, R1 = to, R26 = to.hook, R5 = the PC from
// resumes at, R6 = its SP, R29 = its frame pointer. Tail-call the hook, a
// Go closure, with the registers as the code that called Switch left
// them: it returns straight there. g is already in R28.
TEXT ·hooked(SB), NOSPLIT|NOFRAME, $0-0
	MOVD	R6, RSP
	MOVD	R5, R30
	MOVD	0(R26), R2
	JMP	(R2)
