// The floor case for amd64: see floor.go.

#include "textflag.h"
#include "go_asm.h"

// The two loops of a floor case, around its switch SW: RUN_LOOP makes n
// round trips from the calling stack (from = AX, to = BX, count = CX),
// ENTRY_LOOP is the far side, which switches back at once, forever.
#define RUN_LOOP(SW) \
	MOVQ	n+0(FP), CX; \
	MOVQ	self+8(FP), AX; \
	MOVQ	other+16(FP), BX; \
	TESTQ	CX, CX; \
	JLE	done; \
loop: \
	CALL	SW(SB); \
	XCHGQ	AX, BX; \
	DECQ	CX; \
	JNE	loop; \
done: \
	RET

#define ENTRY_LOOP(SW) \
loop: \
	XCHGQ	AX, BX; \
	CALL	SW(SB); \
	JMP	loop

// func floorRun(n int, self, other *floorContext)
TEXT ·floorRun(SB), NOSPLIT, $0-24
	RUN_LOOP(·floorSwitch)

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
// The far side, from the first switch to it on.
TEXT ·floorEntry(SB), NOSPLIT|NOFRAME|TOPFRAME, $0-0
	ENTRY_LOOP(·floorSwitch)

// func floorHandoffRun(n int, self, other *floorContext): floorRun, through
// floorHandoffSwitch.
TEXT ·floorHandoffRun(SB), NOSPLIT, $0-24
	RUN_LOOP(·floorHandoffSwitch)

// func floorHandoffSwitch()
//
// floorSwitch after the status changes of a goroutine handoff (floor.go):
// AX's side from running to waiting, then BX's from waiting to running,
// each a LOCK CMPXCHG as in ctx/handoff_amd64.s.
TEXT ·floorHandoffSwitch(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ	AX, R8					// CMPXCHG compares with AX
	MOVL	$const_floorRunning, AX
	MOVL	$const_floorWaiting, R9
	LOCK
	CMPXCHGL	R9, floorContext_status(R8)	// from: running -> waiting
	JNE	broken
	MOVL	$const_floorWaiting, AX
	MOVL	$const_floorRunning, R9
	LOCK
	CMPXCHGL	R9, floorContext_status(BX)	// to: waiting -> running
	JNE	broken
	MOVQ	R8, AX
	JMP	·floorSwitch(SB)
broken:
	INT	$3					// unreachable: the two sides alternate

// func floorHandoffEntry()
//
// floorEntry, through floorHandoffSwitch.
TEXT ·floorHandoffEntry(SB), NOSPLIT|NOFRAME|TOPFRAME, $0-0
	ENTRY_LOOP(·floorHandoffSwitch)

// func floorEntryPCs() (plain, handoff uintptr)
TEXT ·floorEntryPCs(SB), NOSPLIT|NOFRAME, $0-16
	LEAQ	·floorEntry(SB), AX
	MOVQ	AX, plain+0(FP)
	LEAQ	·floorHandoffEntry(SB), AX
	MOVQ	AX, handoff+8(FP)
	RET
