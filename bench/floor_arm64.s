// The floor case for arm64: see floor.go.

#include "textflag.h"
#include "go_asm.h"

// func floorRun(n int, self, other *floorContext): from = R0, to = R1, count = R3.
TEXT ·floorRun(SB), NOSPLIT, $0-24
	MOVD	n+0(FP), R3
	MOVD	self+8(FP), R0
	MOVD	other+16(FP), R1
	CMP	$0, R3
	BLE	done
loop:
	CALL	·floorSwitch(SB)
	MOVD	R0, R2
	MOVD	R1, R0
	MOVD	R2, R1
	SUBS	$1, R3
	BNE	loop
done:
	RET

// func floorSwitch()
//
// Saves the caller's SP, return PC (LR) and frame pointer in R0's context
// and resumes R1's: a call in, a jump out, as ctx.Switch (with arm64's
// store-pair, as there).
TEXT ·floorSwitch(SB), NOSPLIT|NOFRAME, $0-0
	MOVD	RSP, R6
	STP	(R6, R30), floorContext_sp(R0)
	MOVD	R29, floorContext_bp(R0)
	LDP	floorContext_sp(R1), (R6, R5)
	MOVD	floorContext_bp(R1), R29
	MOVD	R6, RSP
	JMP	(R5)

// func floorEntry()
//
// The far side, from the first switch to it on: it switches back at once,
// forever.
TEXT ·floorEntry(SB), NOSPLIT|NOFRAME|TOPFRAME, $0-0
loop:
	MOVD	R0, R2
	MOVD	R1, R0
	MOVD	R2, R1
	CALL	·floorSwitch(SB)
	JMP	loop

// func floorEntryPC() uintptr
TEXT ·floorEntryPC(SB), NOSPLIT|NOFRAME, $0-8
	MOVD	$·floorEntry(SB), R0
	MOVD	R0, ret+0(FP)
	RET
