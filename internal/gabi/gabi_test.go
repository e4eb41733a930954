//go:build linux && (amd64 || arm64)

package gabi

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// wrong names the offset under test and the Go release, so that a new Go
// release that moved a field fails with a message saying where to look.
func wrong(field string, off uintptr) string {
	return fmt.Sprintf("g.%s at offset %d does not match %s (offsets file for %s): update internal/gabi",
		field, off, runtime.Version(), GoRelease)
}

// onFreshGoroutine runs f on a new goroutine, whose g fields start in a
// known state (no defers, no panics, a small runtime-allocated stack).
func onFreshGoroutine(f func()) {
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	<-done
}

func TestOffsets(t *testing.T) {
	t.Run("stack", func(t *testing.T) {
		onFreshGoroutine(func() {
			g := G()
			// Read the bounds on both sides of SP: a call in between may have
			// grown (moved) the stack.
			var lo, hi, sp uintptr
			for {
				lo, hi = *StackLo(g), *StackHi(g)
				sp = SP()
				if lo == *StackLo(g) && hi == *StackHi(g) {
					break
				}
			}
			require.True(t, lo < sp && sp < hi, wrong("stack", OffStackLo)+fmt.Sprintf(" (lo=%#x sp=%#x hi=%#x)", lo, sp, hi))
			require.Zero(t, (hi-lo)&(hi-lo-1), wrong("stack (size is not a power of two)", OffStackHi))
		})
	})
	t.Run("stackguard0", func(t *testing.T) {
		onFreshGoroutine(func() {
			g := G()
			// A preemption request may be pending for a moment; a limit is what stays.
			for i := 0; i < 100 && IsPreemptRequest(*StackGuard0(g)); i++ {
				runtime.Gosched()
			}
			require.Equal(t, *StackLo(g)+StackGuard, *StackGuard0(g), wrong("stackguard0", OffStackGuard0))
		})
	})
	t.Run("stackguard1", func(t *testing.T) {
		// User goroutines have stackguard1 = ^0, so that a systemstack-only
		// function called on them crashes.
		onFreshGoroutine(func() {
			require.Equal(t, ^uintptr(0), *word(G(), OffStackGuard1), wrong("stackguard1", OffStackGuard1))
		})
	})
	t.Run("m", func(t *testing.T) {
		onFreshGoroutine(func() {
			g := G()
			m := *(*unsafe.Pointer)(unsafe.Add(g, OffM))
			require.NotNil(t, m, wrong("m", OffM))
			// m.g0 is m's first field: a different g whose stack does not hold ours.
			g0 := *(*unsafe.Pointer)(m)
			require.NotNil(t, g0, wrong("m", OffM))
			require.NotEqual(t, g, g0, wrong("m", OffM))
			require.False(t, *StackLo(g0) <= SP() && SP() < *StackHi(g0), wrong("m", OffM))
		})
	})
	t.Run("_defer", func(t *testing.T) {
		onFreshGoroutine(func() {
			g := G()
			// Under -race even the caller's defers make records; compare with
			// the chain as it was.
			before := *Defer(g)
			var seen unsafe.Pointer
			func() {
				// A defer in a loop cannot be open-coded: it pushes a record on g._defer.
				for i := 0; i < 1; i++ {
					defer func() {}()
				}
				seen = *Defer(g)
			}()
			require.NotNil(t, seen, wrong("_defer", OffDefer))
			require.NotEqual(t, before, seen, wrong("_defer", OffDefer))
			require.Equal(t, before, *Defer(g), wrong("_defer", OffDefer))
		})
	})
	t.Run("_panic", func(t *testing.T) {
		onFreshGoroutine(func() {
			g := G()
			require.Nil(t, *Panic(g), wrong("_panic", OffPanic))
			var seen unsafe.Pointer
			func() {
				defer func() {
					seen = *Panic(g)
					recover()
				}()
				panic("probe")
			}()
			require.NotNil(t, seen, wrong("_panic", OffPanic))
			require.Nil(t, *Panic(g), wrong("_panic", OffPanic))
		})
	})
	t.Run("stktopsp", func(t *testing.T) {
		onFreshGoroutine(func() {
			g := G()
			top, hi := *StkTopSP(g), *StackHi(g)
			// newproc sets it to the SP at goexit's frame, a few words below hi.
			require.True(t, top < hi && hi-top <= 64, wrong("stktopsp", OffStkTopSP)+fmt.Sprintf(" (hi-stktopsp=%d)", hi-top))
		})
	})
	t.Run("goid", func(t *testing.T) {
		onFreshGoroutine(func() {
			buf := make([]byte, 64)
			buf = buf[:runtime.Stack(buf, false)]
			field := bytes.Fields(buf)[1] // "goroutine N [running]:"
			id, err := strconv.ParseUint(string(field), 10, 64)
			require.NoError(t, err)
			require.Equal(t, id, Goid(G()), wrong("goid", OffGoid))
		})
	})
	t.Run("lockedm", func(t *testing.T) {
		onFreshGoroutine(func() {
			g := G()
			require.Zero(t, *word(g, OffLockedM), wrong("lockedm", OffLockedM))
			runtime.LockOSThread()
			m, locked := *word(g, OffM), *word(g, OffLockedM)
			runtime.UnlockOSThread()
			require.Equal(t, m, locked, wrong("lockedm (must equal m while locked)", OffLockedM))
			require.False(t, LockedToThread(g), wrong("lockedm", OffLockedM))
		})
	})
	t.Run("preempt", func(t *testing.T) {
		// A pinned goroutine cannot be stopped, so a stop-the-world request
		// (runtime.GC) leaves g.preempt set until the pin ends.
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
		onFreshGoroutine(func() {
			g := G()
			require.False(t, Preempt(g), wrong("preempt", OffPreempt))
			gcDone := make(chan struct{})
			ProcPin()
			go func() { runtime.GC(); close(gcDone) }()
			deadline := time.Now().Add(10 * time.Second)
			for !Preempt(g) && time.Now().Before(deadline) {
			}
			seen := Preempt(g)
			ProcUnpin()
			runtime.Gosched()
			<-gcDone
			require.True(t, seen, wrong("preempt", OffPreempt))
		})
	})
}

func TestPreemptRequestMin(t *testing.T) {
	// The runtime's requests, from runtime/stack.go.
	for _, v := range []int{-1314, -1234, -275} {
		require.True(t, IsPreemptRequest(uintptr(v)))
	}
	require.False(t, IsPreemptRequest(uintptr(1<<47)))
}
