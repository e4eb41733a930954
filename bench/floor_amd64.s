// The floor case for amd64: see floor.go.

#include "textflag.h"
#include "go_asm.h"

// func floorRun(n int, self, other *floorContext): from = AX, to = BX, count = CX.
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
// Saves the caller's SP (as its RET would leave it) and frame pointer in
// AX's context and resumes BX's: a CALL in, a JMP out, as ctx.Switch. As
// there, the resume PC is the return PC the CALL pushed, below the saved
// SP, and SP is stored only when it changed (docs/design.md, section 1):
// the least a switch between stacks does here.
TEXT ·floorSwitch(SB), NOSPLIT|NOFRAME, $0-0
	LEAQ	8(SP), SI
	CMPQ	SI, floorContext_sp(AX)
	JNE	newsp
spok:
	MOVQ	BP, floorContext_bp(AX)
	MOVQ	floorContext_bp(BX), BP
	MOVQ	floorContext_sp(BX), SP
	MOVQ	-8(SP), DX
	JMP	DX
newsp:
	MOVQ	SI, floorContext_sp(AX)
	JMP	spok

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
