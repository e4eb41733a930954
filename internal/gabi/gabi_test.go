//go:build linux && (amd64 || arm64)

package gabi

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/require"
)

func TestOffsets(t *testing.T) {
	t.Run("stack", func(t *testing.T) {
		testproc.OnNewGoroutine(func() {
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
			require.True(t, lo < sp && sp < hi, Wrong("g.stack", OffStackLo)+fmt.Sprintf(" (lo=%#x sp=%#x hi=%#x)", lo, sp, hi))
			require.Zero(t, (hi-lo)&(hi-lo-1), Wrong("g.stack.hi", OffStackHi)+" (the size is not a power of two)")
		})
	})
	t.Run("stackguard0", func(t *testing.T) {
		testproc.OnNewGoroutine(func() {
			g := G()
			// A preemption request may be pending for a moment; a limit is what stays.
			for i := 0; i < 100 && IsPreemptRequest(*StackGuard0(g)); i++ {
				runtime.Gosched()
			}
			require.Equal(t, *StackLo(g)+StackGuard, *StackGuard0(g), Wrong("g.stackguard0", OffStackGuard0))
		})
	})
	t.Run("stackguard1", func(t *testing.T) {
		// User goroutines have stackguard1 = ^0, so that a systemstack-only
		// function called on them crashes.
		testproc.OnNewGoroutine(func() {
			require.Equal(t, ^uintptr(0), *word(G(), OffStackGuard1), Wrong("g.stackguard1", OffStackGuard1))
		})
	})
	t.Run("m", func(t *testing.T) {
		testproc.OnNewGoroutine(func() {
			runtime.LockOSThread() // stay on this m
			defer runtime.UnlockOSThread()
			g := uintptr(G())
			m := WordAt(g, OffM)
			require.NotZero(t, m, Wrong("g.m", OffM))
			Guard(t, "g.m, m.curg, m.g0", func() {
				require.Equal(t, g, WordAt(m, OffMCurg), Wrong("m.curg", OffMCurg)+" (or "+Wrong("g.m", OffM)+")")
				// m.g0 is the thread's scheduler goroutine: another g, whose
				// stack does not hold ours, and whose m is this m.
				g0 := WordAt(m, OffMG0)
				require.NotZero(t, g0, Wrong("m.g0", OffMG0))
				require.NotEqual(t, g, g0, Wrong("m.g0", OffMG0))
				require.Equal(t, m, WordAt(g0, OffM), Wrong("m.g0", OffMG0))
				require.False(t, WordAt(g0, OffStackLo) <= SP() && SP() < WordAt(g0, OffStackHi), Wrong("m.g0", OffMG0))
			})
		})
	})
	t.Run("m.locks", func(t *testing.T) {
		testproc.OnNewGoroutine(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			g := uintptr(G())
			m := WordAt(g, OffM)
			Guard(t, "g.m, m.curg", func() { require.Equal(t, g, WordAt(m, OffMCurg), Wrong("m.curg", OffMCurg)) })
			// m is sound: no read below can fault, which matters because a
			// fault while pinned is fatal.
			locks := func() int32 { return int32(WordAt(m, OffMLocks)) }
			before := locks()
			ProcPin()
			pinned := locks()
			ProcUnpin()
			after := locks()
			require.Equal(t, before+1, pinned, Wrong("m.locks", OffMLocks)+" (ProcPin must raise it by one)")
			require.Equal(t, before, after, Wrong("m.locks", OffMLocks)+" (ProcUnpin must lower it by one)")
		})
	})
	t.Run("_defer", func(t *testing.T) {
		testproc.OnNewGoroutine(func() {
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
			require.NotNil(t, seen, Wrong("g._defer", OffDefer))
			require.NotEqual(t, before, seen, Wrong("g._defer", OffDefer))
			require.Equal(t, before, *Defer(g), Wrong("g._defer", OffDefer))
		})
	})
	t.Run("_panic", func(t *testing.T) {
		testproc.OnNewGoroutine(func() {
			g := G()
			require.Nil(t, *Panic(g), Wrong("g._panic", OffPanic))
			var seen unsafe.Pointer
			func() {
				defer func() {
					seen = *Panic(g)
					recover()
				}()
				panic("probe")
			}()
			require.NotNil(t, seen, Wrong("g._panic", OffPanic))
			require.Nil(t, *Panic(g), Wrong("g._panic", OffPanic))
		})
	})
	t.Run("stktopsp", func(t *testing.T) {
		testproc.OnNewGoroutine(func() {
			g := G()
			top, hi := *StkTopSP(g), *StackHi(g)
			// newproc sets it to the SP at goexit's frame, a few words below hi.
			require.True(t, top < hi && hi-top <= 64, Wrong("g.stktopsp", OffStkTopSP)+fmt.Sprintf(" (hi-stktopsp=%d)", hi-top))
		})
	})
	t.Run("goid", func(t *testing.T) {
		testproc.OnNewGoroutine(func() {
			buf := make([]byte, 64)
			buf = buf[:runtime.Stack(buf, false)]
			field := bytes.Fields(buf)[1] // "goroutine N [running]:"
			id, err := strconv.ParseUint(string(field), 10, 64)
			require.NoError(t, err)
			require.Equal(t, id, Goid(G()), Wrong("g.goid", OffGoid))
		})
	})
	t.Run("lockedm", func(t *testing.T) {
		testproc.OnNewGoroutine(func() {
			g := G()
			require.Zero(t, *word(g, OffLockedM), Wrong("g.lockedm", OffLockedM))
			runtime.LockOSThread()
			m, locked := *word(g, OffM), *word(g, OffLockedM)
			runtime.UnlockOSThread()
			require.Equal(t, m, locked, Wrong("g.lockedm", OffLockedM)+" (must equal g.m while locked)")
			require.False(t, LockedToThread(g), Wrong("g.lockedm", OffLockedM))
		})
	})
	t.Run("preempt", func(t *testing.T) {
		// A pinned goroutine cannot be stopped, so a stop-the-world request
		// (runtime.GC) leaves g.preempt set until the pin ends.
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
		testproc.OnNewGoroutine(func() {
			g := G()
			require.False(t, Preempt(g), Wrong("g.preempt", OffPreempt))
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
			require.True(t, seen, Wrong("g.preempt", OffPreempt))
		})
	})
}

// TestOffsetsBlockedGoroutine reads a goroutine that is parked in the
// runtime: its status, wait reason and saved registers (g.sched).
func TestOffsetsBlockedGoroutine(t *testing.T) {
	t.Run("running", func(t *testing.T) {
		// The Gscan bit is set for a moment while the GC asks to stop us.
		st := Status(uintptr(G()))
		require.Equal(t, uint32(Grunning), st&^Gscan, Wrong("g.atomicstatus", OffAtomicStatus)+" or "+Wrong("_Grunning", Grunning))
	})
	t.Run("chan receive", func(t *testing.T) {
		ch := make(chan int)
		defer close(ch)
		g := parked(t, func() { <-ch }, WaitReasonChanReceive, "WaitReasonChanReceive")
		lo, hi, sched := SchedOf(g)
		sp, pc, bp := sched.Word(OffGobufSP), sched.Word(OffGobufPC), sched.Word(OffGobufBP)
		require.True(t, lo <= sp && sp < hi, Wrong("g.sched", OffSched)+" or "+Wrong("gobuf.sp", OffGobufSP)+fmt.Sprintf(" (lo=%#x sp=%#x hi=%#x)", lo, sp, hi))
		require.True(t, strings.HasPrefix(FuncName(pc), "runtime."), Wrong("gobuf.pc", OffGobufPC)+fmt.Sprintf(" (pc=%#x in %q)", pc, FuncName(pc)))
		require.Equal(t, uintptr(g), sched.Word(OffGobufG), Wrong("gobuf.g", OffGobufG))
		// A parked goroutine's saved frame pointer is its parking caller's:
		// on its stack (amd64: above sp; arm64: just below), pointing at
		// the next frame pointer up the stack, with a return PC above it.
		require.True(t, lo <= bp && bp < hi, Wrong("gobuf.bp", OffGobufBP)+fmt.Sprintf(" (lo=%#x bp=%#x hi=%#x)", lo, bp, hi))
		Guard(t, "gobuf.bp", func() {
			next := Peek(bp)
			require.True(t, bp < next && next < hi, Wrong("gobuf.bp", OffGobufBP)+fmt.Sprintf(" (bp=%#x *bp=%#x hi=%#x)", bp, next, hi))
			require.NotEmpty(t, FuncName(Peek(bp+8)), Wrong("gobuf.bp", OffGobufBP))
		})
		// gogo cleared ctxt when g first ran; mcall, which parked it,
		// leaves ctxt alone and zeroes lr.
		require.Zero(t, sched.Word(OffGobufCtxt), Wrong("gobuf.ctxt", OffGobufCtxt))
		require.Zero(t, sched.Word(OffGobufLR), Wrong("gobuf.lr", OffGobufLR))
	})
	t.Run("WaitGroup", func(t *testing.T) {
		var wg sync.WaitGroup
		wg.Add(1)
		defer wg.Done()
		parked(t, wg.Wait, WaitReasonSyncWaitGroupWait, "WaitReasonSyncWaitGroupWait")
	})
}

// parked runs wait on a new goroutine, waits until the goroutine is
// parked with the given wait reason, and returns its g. The caller must
// then let wait return.
func parked(t *testing.T, wait func(), reason uint8, reasonName string) uintptr {
	t.Helper()
	gch := make(chan uintptr, 1)
	go func() { gch <- uintptr(G()); wait() }()
	g := <-gch
	deadline := time.Now().Add(10 * time.Second)
	for Status(g)&^Gscan != Gwaiting && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	require.Equal(t, uint32(Gwaiting), Status(g)&^Gscan, Wrong("g.atomicstatus", OffAtomicStatus)+" or "+Wrong("_Gwaiting", Gwaiting))
	require.Equal(t, reason, WaitReasonOf(g), Wrong("g.waitreason", OffWaitReason)+" or "+Wrong(reasonName, uintptr(reason)))
	return g
}

// The goroutine leak profile (GOEXPERIMENT=goroutineleakprofile) reports
// goroutines parked with a wait reason in this range; a coroutine waiting
// for its next resume is not a leak.
func TestCoroutineWaitsAreNotLeakCandidates(t *testing.T) {
	require.True(t, WaitReasonChanReceiveNilChan <= WaitReasonChanReceive && WaitReasonChanReceive <= WaitReasonSyncWaitGroupWait)
	require.False(t, WaitReasonChanReceiveNilChan <= WaitReasonCoroutine && WaitReasonCoroutine <= WaitReasonSyncWaitGroupWait,
		"waitReasonCoroutine lies among the waits %s's goroutine leak profile considers", runtime.Version())
	require.Equal(t, Gscan|Gwaiting, Gscanwaiting)
}

func TestOffsetsBubbleAndSecret(t *testing.T) {
	g := uintptr(G())
	require.Zero(t, WordAt(g, OffBubble), Wrong("g.bubble", OffBubble))
	synctest.Test(t, func(t *testing.T) {
		require.NotZero(t, WordAt(uintptr(G()), OffBubble), Wrong("g.bubble", OffBubble)+" (zero inside a synctest bubble)")
	})
	require.Zero(t, int32(WordAt(g, OffSecret)), Wrong("g.secret", OffSecret))
	testSecretDo(t)
}

func TestPreemptRequestMin(t *testing.T) {
	// The runtime's requests, from runtime/stack.go.
	for _, v := range []int{-1314, -1234, -275} {
		require.True(t, IsPreemptRequest(uintptr(v)))
	}
	require.False(t, IsPreemptRequest(uintptr(1<<47)))
}
