// The floor case for amd64: see floor.go.

#include "textflag.h"

// func floorRun(n int, self, other *floorContext)
//
// Each side resumes with AX = the context of the side that switched to it
// and BX = its own, and exchanges them for its next switch. CX counts
// round trips: only floor code runs until floorRun returns, and it leaves
// CX alone.
TEXT ·floorRun(SB), NOSPLIT, $0-24
	MOVQ	n+0(FP), CX
	MOVQ	self+8(FP), AX
	MOVQ	other+16(FP), BX
	TESTQ	CX, CX
	JLE	done
loop:
	CALL	·floorSwitch(SB)
	XCHGQ	AX, BX
	DECQ	CX
	JNE	loop
done:
	RET

// func floorSwitch()
//
// Saves the caller's SP (as its RET would leave it), return PC and frame
// pointer in AX's context and resumes BX's: a CALL in, a JMP out, as
// ctx.Switch.
TEXT ·floorSwitch(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ	0(SP), DI
	LEAQ	8(SP), SI
	MOVQ	SI, 0(AX)
	MOVQ	DI, 8(AX)
	MOVQ	BP, 16(AX)
	MOVQ	16(BX), BP
	MOVQ	0(BX), SP
	MOVQ	8(BX), DX
	JMP	DX

// func floorEntry()
//
// The far side, from the first switch to it on: it switches back at once,
// forever.
TEXT ·floorEntry(SB), NOSPLIT|NOFRAME|TOPFRAME, $0-0
loop:
	XCHGQ	AX, BX
	CALL	·floorSwitch(SB)
	JMP	loop

// func floorEntryPC() uintptr
TEXT ·floorEntryPC(SB), NOSPLIT|NOFRAME, $0-8
	LEAQ	·floorEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
