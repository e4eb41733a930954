//go:build linux && (amd64 || arm64)

package gabi

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"unsafe"
)

// Helpers for the tests here and in package gabi_test (coro_test.go).
// Addresses read out of runtime structures stay uintptrs: a wrong offset
// can yield any value, and a bad value in an unsafe.Pointer kills the
// process when the GC finds it ("invalid pointer found on stack").

// Wrong names the runtime field or constant under test, gabi's value for
// it and the Go release, so that a release that moved a field fails with a
// message saying where to look.
func Wrong(what string, v uintptr) string {
	return fmt.Sprintf("%s = %d (generated for %s) does not match %s on %s: run `go generate ./internal/gabi` under this toolchain, or fix internal/gabi/gen",
		what, v, GoRelease, runtime.Version(), runtime.GOARCH)
}

// Guard runs f, which reads runtime structures at gabi's offsets, so that
// a read that a wrong offset sent astray fails the test naming what (the
// offsets f relies on) instead of killing the process with a fault.
func Guard(t testing.TB, what string, f func()) {
	t.Helper()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		// A fault is a runtime.Error: with an address (Addr) unless it
		// was a nil dereference.
		switch r := recover().(type) {
		case nil:
		case runtime.Error:
			t.Fatalf("reading %s: %v: one of them is wrong for %s on %s (generated for %s): run `go generate ./internal/gabi` under this toolchain, or fix internal/gabi/gen",
				what, r, runtime.Version(), runtime.GOARCH, GoRelease)
		default:
			panic(r)
		}
	}()
	f()
}

// Peek reads the word at addr.
func Peek(addr uintptr) uintptr { return *(*uintptr)(pointer(addr)) }

// pointer converts an address for a load that follows at once, with no
// call between that could let the GC see it.
func pointer(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }

// WordAt reads the word at p+off.
func WordAt(p, off uintptr) uintptr { return Peek(p + off) }

// Status reads g.atomicstatus.
func Status(g uintptr) uint32 { return atomic.LoadUint32((*uint32)(pointer(g + OffAtomicStatus))) }

// WaitReasonOf reads g.waitreason.
func WaitReasonOf(g uintptr) uint8 { return *(*uint8)(pointer(g + OffWaitReason)) }

// SchedOf returns a parked goroutine's stack bounds and a copy of its
// g.sched (a gobuf), read together: the GC may move a parked goroutine's
// stack (shrink it) meanwhile.
func SchedOf(g uintptr) (lo, hi uintptr, sched Gobuf) {
	for {
		lo, hi = WordAt(g, OffStackLo), WordAt(g, OffStackHi)
		sched = *(*Gobuf)(pointer(g + OffSched))
		if lo == WordAt(g, OffStackLo) && sched == *(*Gobuf)(pointer(g + OffSched)) {
			return lo, hi, sched
		}
	}
}

// Gobuf is a copy of the bytes at g.sched, more than a gobuf holds.
type Gobuf [64]byte

// Word reads the word at offset off.
func (b *Gobuf) Word(off uintptr) uintptr { return *(*uintptr)(unsafe.Pointer(&b[off])) }

// FuncName names the function holding pc, or "" if none does.
func FuncName(pc uintptr) string {
	if f := runtime.FuncForPC(pc); f != nil {
		return f.Name()
	}
	return ""
}
