// The floor case for arm64: see floor.go.

#include "textflag.h"
#include "go_asm.h"

// The two loops of a floor case, around its switch SW: RUN_LOOP makes n
// round trips from the calling stack (from = R0, to = R1, count = R3),
// ENTRY_LOOP is the far side, which switches back at once, forever.
#define RUN_LOOP(SW) \
	MOVD	n+0(FP), R3; \
	MOVD	self+8(FP), R0; \
	MOVD	other+16(FP), R1; \
	CMP	$0, R3; \
	BLE	done; \
loop: \
	CALL	SW(SB); \
	MOVD	R0, R2; \
	MOVD	R1, R0; \
	MOVD	R2, R1; \
	SUBS	$1, R3; \
	BNE	loop; \
done: \
	RET

#define ENTRY_LOOP(SW) \
loop: \
	MOVD	R0, R2; \
	MOVD	R1, R0; \
	MOVD	R2, R1; \
	CALL	SW(SB); \
	JMP	loop

// func floorRun(n int, self, other *floorContext)
TEXT ·floorRun(SB), NOSPLIT, $0-24
	RUN_LOOP(·floorSwitch)

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
// R0's side from running to waiting, then R1's from waiting to running,
// each an LDAXRW/STLXRW pair as in ctx/handoff_arm64.s.
TEXT ·floorHandoffSwitch(SB), NOSPLIT|NOFRAME, $0-0
	ADD	$floorContext_status, R0, R7
	MOVW	$const_floorWaiting, R9
leave:
	LDAXRW	(R7), R8				// from: running -> waiting
	CMPW	$const_floorRunning, R8
	BNE	broken
	STLXRW	R9, (R7), R10
	CBNZW	R10, leave
	ADD	$floorContext_status, R1, R7
	MOVW	$const_floorRunning, R9
resume:
	LDAXRW	(R7), R8				// to: waiting -> running
	CMPW	$const_floorWaiting, R8
	BNE	broken
	STLXRW	R9, (R7), R10
	CBNZW	R10, resume
	JMP	·floorSwitch(SB)
broken:
	UNDEF						// unreachable: the two sides alternate

// func floorHandoffEntry()
//
// floorEntry, through floorHandoffSwitch.
TEXT ·floorHandoffEntry(SB), NOSPLIT|NOFRAME|TOPFRAME, $0-0
	ENTRY_LOOP(·floorHandoffSwitch)

// func floorEntryPCs() (plain, handoff uintptr)
TEXT ·floorEntryPCs(SB), NOSPLIT|NOFRAME, $0-16
	MOVD	$·floorEntry(SB), R0
	MOVD	R0, plain+0(FP)
	MOVD	$·floorHandoffEntry(SB), R0
	MOVD	R0, handoff+8(FP)
	RET
