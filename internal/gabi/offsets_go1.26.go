//go:build go1.26 && !go1.27

package gabi

// Offsets of the runtime's g fields in Go 1.26 (runtime/runtime2.go), the
// same on amd64 and arm64 (both 64-bit with 8-byte pointers). TestOffsets
// checks each of them against the running runtime.
const (
	OffStackLo     = 0   // stack.lo
	OffStackHi     = 8   // stack.hi
	OffStackGuard0 = 16  // stackguard0
	OffStackGuard1 = 24  // stackguard1
	OffPanic       = 32  // _panic
	OffDefer       = 40  // _defer
	OffM           = 48  // m
	OffStkTopSP    = 128 // stktopsp, after sched (a 48-byte gobuf) and syscallsp/pc/bp
	OffGoid        = 152 // goid, after param, atomicstatus and stackLock
	OffPreempt     = 177 // preempt, after schedlink, waitsince and waitreason
	OffLockedM     = 208 // lockedm, after the flags and the tracking fields
)

// GoRelease names the release these offsets were taken from.
const GoRelease = "go1.26"
