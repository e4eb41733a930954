//go:build linux && (amd64 || arm64)

// Package gabi is corokit's one window into the Go runtime's private
// structures (the goroutine record g, the thread record m, gobuf, coro and
// iter.Pull's state): their field offsets and constants for the running Go
// release, a way to find the current g, and the few runtime functions that
// corokit links to.
//
// Everything here is private to the runtime and may change with any Go
// release. The offsets and constants are generated from each supported
// toolchain's source (zruntime_<release>_<arch>.go, written by
// `go generate` with the program in ./gen); any other release, OS or
// architecture fails to build with one error naming what is supported
// (unsupported.go, generated too), and the TestOffsets* tests check every
// value against the running runtime by observation.
package gabi

//go:generate go run ./gen

import (
	"unsafe"
	_ "unsafe" // for go:linkname
)

// G returns the current goroutine's runtime g record.
//
// The pointer is stable while the goroutine lives. It must not be retained
// past the goroutine's exit: the runtime reuses g records.
func G() unsafe.Pointer

// SP returns the caller's stack pointer: an address on the stack it runs on.
func SP() uintptr

// FP returns the caller's frame pointer (BP on amd64, R29 on arm64). The
// word it points to holds the next frame pointer, the word above it the
// return PC: the chain that frame-pointer unwinders walk.
func FP() uintptr

// RegionTopSP is the sentinel that package ctx keeps in g.stktopsp for the
// whole of a pinned region: an SP no stack can have, so that a precise
// unwind of any stack (GC scan, stack copy), which compares its final SP
// with g.stktopsp, throws "traceback did not unwind completely" with
// top=0x1 instead of scanning one stack of two in silence. Assembly that
// must know whether it runs in a region compares g.stktopsp with it.
const RegionTopSP = 1

// InRegion reports whether the calling goroutine is inside a pinned
// region (package ctx's Region).
func InRegion() bool { return *StkTopSP(G()) == RegionTopSP }

// word returns the uintptr field of g at offset off.
func word(g unsafe.Pointer, off uintptr) *uintptr { return (*uintptr)(unsafe.Add(g, off)) }

// StackLo is g.stack.lo, the lowest address of the stack g runs on.
func StackLo(g unsafe.Pointer) *uintptr { return word(g, OffStackLo) }

// StackHi is g.stack.hi, one past the highest address of g's stack.
func StackHi(g unsafe.Pointer) *uintptr { return word(g, OffStackHi) }

// StackGuard0 is g.stackguard0, the limit compared in every Go prologue.
func StackGuard0(g unsafe.Pointer) *uintptr { return word(g, OffStackGuard0) }

// M is g.m, the thread record of the thread g runs on.
func M(g unsafe.Pointer) *uintptr { return word(g, OffM) }

// StkTopSP is g.stktopsp, the SP a complete unwind must end at.
func StkTopSP(g unsafe.Pointer) *uintptr { return word(g, OffStkTopSP) }

// Defer is g._defer, the innermost deferred-call record. Stores through it
// from Go get write barriers, which the GC needs: g is a heap object.
func Defer(g unsafe.Pointer) *unsafe.Pointer { return (*unsafe.Pointer)(unsafe.Add(g, OffDefer)) }

// Panic is g._panic, the innermost active panic record.
func Panic(g unsafe.Pointer) *unsafe.Pointer { return (*unsafe.Pointer)(unsafe.Add(g, OffPanic)) }

// Goid is the goroutine's id, as runtime.Stack prints it.
func Goid(g unsafe.Pointer) uint64 { return *(*uint64)(unsafe.Add(g, OffGoid)) }

// Preempt reports g.preempt: the scheduler has asked g to stop.
func Preempt(g unsafe.Pointer) bool { return *(*bool)(unsafe.Add(g, OffPreempt)) }

// LockedToThread reports whether g is wired to its thread
// (runtime.LockOSThread): g.lockedm is set.
func LockedToThread(g unsafe.Pointer) bool { return *word(g, OffLockedM) != 0 }

// IsPreemptRequest reports whether a stackguard0 value is one of the
// runtime's requests (stackPreempt, stackFork, stackForceMove) rather than a
// stack limit. All of them lie in the top page of the address space.
func IsPreemptRequest(guard uintptr) bool { return guard >= PreemptRequestMin }

// PreemptRequestMin is the lowest stackguard0 value that is a request
// rather than a limit (the runtime's requests are -1314, -1234 and -275).
const PreemptRequestMin = ^uintptr(4096 - 1)

// ProcPin disables preemption of the calling goroutine (it raises m.locks):
// the goroutine stays on its M and P, the scheduler cannot suspend it, and
// so the garbage collector cannot scan its stack until ProcUnpin.
//
//go:linkname ProcPin runtime.procPin
func ProcPin() int

// ProcUnpin undoes one ProcPin.
//
//go:linkname ProcUnpin runtime.procUnpin
func ProcUnpin()

// Throw ends the process with "fatal error: msg" and a goroutine dump. Unlike
// panic it cannot be recovered, and it works inside a pinned region and on
// a foreign stack, where a panic would itself be fatal with a less clear
// message.
//
//go:linkname Throw runtime.throw
func Throw(msg string)

// Misuse reports a misuse of corokit's API. Inside a pinned region, where
// a panic is fatal anyway (and less clear: "panic holding locks"), it
// throws msg at once. Elsewhere it returns msg for the API function to
// panic with, so that the user's trace starts at the call they got wrong,
// not in this package:
//
//	panic(gabi.Misuse("coro: ..."))
func Misuse(msg string) string {
	if InRegion() {
		Throw(msg)
	}
	return msg
}

//go:linkname iscgo runtime.iscgo
var iscgo bool

// IsCgo reports whether the binary links cgo (runtime/cgo).
func IsCgo() bool { return iscgo }

// FuncAt makes a func value of type F that calls the code at pc, with Go's
// register ABI whatever the code's own convention: a func value points to
// a record whose first word is the code's address. The code must take the
// arguments as that ABI passes them.
func FuncAt[F any](pc uintptr) F {
	rec := &struct{ pc uintptr }{pc}
	return *(*F)(unsafe.Pointer(&rec))
}
