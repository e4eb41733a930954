//go:build go1.26 && !go1.27

package gabi

// Offsets of the runtime's private structures in Go 1.26
// (runtime/runtime2.go), the same on amd64 and arm64. TestOffsets checks
// each against the running runtime. (Hand-written; the releases issue
// replaces this file with generated ones.)
const (
	// g
	OffStackLo      = 0
	OffStackHi      = 8
	OffStackGuard0  = 16
	OffStackGuard1  = 24
	OffPanic        = 32
	OffDefer        = 40
	OffM            = 48
	OffSched        = 56
	OffStkTopSP     = 128
	OffAtomicStatus = 144
	OffGoid         = 152
	OffWaitReason   = 176
	OffPreempt      = 177
	OffLockedM      = 208
	OffSecret       = 228
	OffBubble       = 392

	// gobuf
	OffGobufSP   = 0
	OffGobufPC   = 8
	OffGobufG    = 16
	OffGobufCtxt = 24
	OffGobufLR   = 32
	OffGobufBP   = 40

	// m
	OffMG0    = 0
	OffMCurg  = 184
	OffMLocks = 264

	// coro
	OffCoroGP = 0
	OffCoroF  = 8
	OffCoroMP = 16

	Grunning                     = 2
	Gwaiting                     = 4
	Gscan                        = 0x1000
	Gscanwaiting                 = 0x1004
	WaitReasonCoroutine          = 38
	WaitReasonChanReceive        = 19
	WaitReasonChanReceiveNilChan = 15
	WaitReasonSyncWaitGroupWait  = 25

	IterPullDone      = 1
	IterPullYieldNext = 2
	IterPullSeqDone   = 3
)

// GoRelease names the release these offsets were taken from.
const GoRelease = "go1.26"
