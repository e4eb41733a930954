//go:build linux && (amd64 || arm64)

package gabi

import (
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"unsafe"
)

// GCMarking reports whether a garbage collection is in its mark phase: the
// runtime's write barrier is on (runtime.writeBarrier.enabled). It reports
// false if the flag was not found (WriteBarrierErr).
func GCMarking() bool { return writeBarrier != nil && atomic.LoadUint32(writeBarrier) != 0 }

// WriteBarrierErr says why GCMarking cannot see the flag, or is nil.
func WriteBarrierErr() error { return writeBarrierErr }

var writeBarrier, writeBarrierErr = findWriteBarrier()

var pointerSink *byte

// storePointer is the code findWriteBarrier reads: the compiler emits a
// check of runtime.writeBarrier before every pointer write to the heap.
//
//go:noinline
func storePointer(p *byte) { pointerSink = p }

// findWriteBarrier finds runtime.writeBarrier, which the linker refuses to
// let other packages name, in storePointer's machine code: the one 32-bit
// load of static data there (its first byte is enabled, the next three
// are padding, which the compiler reads along with it), in a function that
// calls the write barrier's slow path (runtime.gcWriteBarrier1 to 8).
func findWriteBarrier() (*uint32, error) {
	fn := storePointer
	entry := **(**uintptr)(unsafe.Pointer(&fn)) // a func value points at its code pointer
	if name := funcName(entry); !strings.HasSuffix(name, ".storePointer") {
		return nil, errors.New("gabi: storePointer's code pointer leads to " + name)
	}
	calls := false
	for _, t := range callTargets(entry) {
		calls = calls || strings.HasPrefix(funcName(t), "runtime.gcWriteBarrier")
	}
	loads := staticLoads(entry, 4)
	if !calls || len(loads) != 1 {
		return nil, errors.New("gabi: storePointer's code has no write barrier check (one 32-bit load of static data " +
			"and a call to runtime.gcWriteBarrierN)")
	}
	a := loads[0].addr
	if runtime.FuncForPC(a) != nil || a%4 != 0 {
		return nil, errors.New("gabi: the write barrier flag found in storePointer lies in code, or is misaligned")
	}
	if v := atomic.LoadUint32((*uint32)(pointerAt(a))); v > 1 {
		return nil, errors.New("gabi: the write barrier flag found in storePointer is not a bool and three zero bytes")
	}
	return (*uint32)(pointerAt(a)), nil
}
