//go:build linux && (amd64 || arm64)

package gabi_test

import (
	"iter"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	// The test reads gabi's constants on every line.
	. "github.com/corokit/corokit/internal/gabi"
)

// These tests live outside package gabi: instantiating iter.Pull in a
// package that declares a linkname to runtime.newcoro (gabi.NewCoro)
// fails to link ("invalid reference to runtime.newcoro"), even if the
// declared function is never called, because the instantiated body's
// reference to runtime.newcoro then carries the linkname mark.

// TestOffsetsCoroutine observes the runtime's coroutine record, and
// iter.Pull's state, through iter.Pull's next closure, whose words on the
// supported releases are {fn, &pull, c, dictionary}.
func TestOffsetsCoroutine(t *testing.T) {
	callerG := uintptr(G())
	var (
		pull, c       uintptr
		bodyG         uintptr
		runningGP     uintptr // c.gp while the body runs
		runningYieldN uintptr // pull.yieldNext while the body runs
	)
	next, stop := iter.Pull(func(yield func(struct{}) bool) {
		bodyG = uintptr(G())
		runningGP = WordAt(c, OffCoroGP)
		runningYieldN = WordAt(pull, IterPullYieldNext) & 0xff
		yield(struct{}{})
	})
	defer stop()
	pull, c = pullState(t, next)
	pullByte := func(off uintptr) uintptr { return WordAt(pull, off) & 0xff }

	Guard(t, "coro.gp, coro.f, coro.mp, g.atomicstatus, g.waitreason, g.sched, gobuf, pull.done, pull.yieldNext", func() {
		// Before the first next: c.gp is the new goroutine, parked where
		// newproc1 left it, about to start in runtime.corostart.
		gp := WordAt(c, OffCoroGP)
		require.NotZero(t, gp, Wrong("coro.gp", OffCoroGP))
		require.Equal(t, uint32(Gwaiting), Status(gp)&^Gscan, Wrong("coro.gp", OffCoroGP)+" or "+Wrong("g.atomicstatus", OffAtomicStatus))
		require.Equal(t, uint8(WaitReasonCoroutine), WaitReasonOf(gp), Wrong("WaitReasonCoroutine", WaitReasonCoroutine))
		_, hi, sched := SchedOf(gp)
		sp, pc := sched.Word(OffGobufSP), sched.Word(OffGobufPC)
		require.Equal(t, "runtime.corostart", FuncName(pc), Wrong("gobuf.pc", OffGobufPC))
		require.Equal(t, gp, sched.Word(OffGobufG), Wrong("gobuf.g", OffGobufG))
		require.Zero(t, sched.Word(OffGobufBP), Wrong("gobuf.bp", OffGobufBP))
		// gostartcall: ctxt is the funcval of corostart; the return address
		// (amd64: pushed at sp; arm64: in lr) is runtime.goexit's.
		ctxt := sched.Word(OffGobufCtxt)
		require.NotZero(t, ctxt, Wrong("gobuf.ctxt", OffGobufCtxt))
		require.Equal(t, pc, Peek(ctxt), Wrong("gobuf.ctxt", OffGobufCtxt))
		require.Less(t, sp, hi, Wrong("gobuf.sp", OffGobufSP))
		ret := Peek(sp)
		if runtime.GOARCH == "arm64" {
			ret = sched.Word(OffGobufLR)
		} else {
			require.Zero(t, sched.Word(OffGobufLR), Wrong("gobuf.lr", OffGobufLR))
		}
		require.Equal(t, "runtime.goexit", FuncName(ret), Wrong("gobuf.lr", OffGobufLR)+" or "+Wrong("gobuf.sp", OffGobufSP))
		require.True(t, strings.HasPrefix(FuncName(Peek(WordAt(c, OffCoroF))), "iter.Pull["), Wrong("coro.f", OffCoroF))
		require.Zero(t, WordAt(c, OffCoroMP), Wrong("coro.mp", OffCoroMP))
		require.Zero(t, pullByte(IterPullDone), Wrong("pull.done", IterPullDone))
		require.Zero(t, pullByte(IterPullYieldNext), Wrong("pull.yieldNext", IterPullYieldNext))
	})

	next()
	Guard(t, "coro.gp, g.atomicstatus, g.waitreason, g.sched, gobuf.pc, pull.done, pull.yieldNext", func() {
		// While the body ran, c.gp was the goroutine waiting for it, and
		// pull.yieldNext was set; now the body waits in coroswitch.
		require.Equal(t, callerG, runningGP, Wrong("coro.gp", OffCoroGP))
		require.Equal(t, uintptr(1), runningYieldN, Wrong("pull.yieldNext", IterPullYieldNext))
		require.Zero(t, pullByte(IterPullYieldNext), Wrong("pull.yieldNext", IterPullYieldNext))
		require.Equal(t, bodyG, WordAt(c, OffCoroGP), Wrong("coro.gp", OffCoroGP))
		require.Equal(t, uint32(Gwaiting), Status(bodyG)&^Gscan, Wrong("g.atomicstatus", OffAtomicStatus))
		require.Equal(t, uint8(WaitReasonCoroutine), WaitReasonOf(bodyG), Wrong("g.waitreason", OffWaitReason)+" or "+Wrong("WaitReasonCoroutine", WaitReasonCoroutine))
		_, _, sched := SchedOf(bodyG)
		require.Equal(t, "runtime.coroswitch", FuncName(sched.Word(OffGobufPC)), Wrong("gobuf.pc", OffGobufPC))
		require.Zero(t, WordAt(c, OffCoroMP), Wrong("coro.mp", OffCoroMP))
		require.Zero(t, pullByte(IterPullDone), Wrong("pull.done", IterPullDone))
	})

	stop()
	Guard(t, "pull.done", func() {
		require.Equal(t, uintptr(1), pullByte(IterPullDone), Wrong("pull.done", IterPullDone))
	})
}

// pullState returns the state an iter.Pull next closure holds: its pull
// variable and its coroutine.
func pullState(t *testing.T, next func() (struct{}, bool)) (pull, c uintptr) {
	words := *(*[4]uintptr)(*(*unsafe.Pointer)(unsafe.Pointer(&next)))
	require.True(t, strings.HasPrefix(FuncName(words[0]), "iter.Pull["),
		"iter.Pull's next closure in %s is not {fn, &pull, c, dict}: %#x", runtime.Version(), words)
	return words[1], words[2]
}

// TestOffsetsCoroutineLockedThread: iter.Pull called on a goroutine locked
// to its thread records that thread in c.mp, and the runtime then insists
// on the same lock state at every switch.
func TestOffsetsCoroutineLockedThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	next, stop := iter.Pull(func(yield func(struct{}) bool) { yield(struct{}{}) })
	defer stop()
	_, c := pullState(t, next)
	Guard(t, "coro.mp", func() {
		require.Equal(t, WordAt(uintptr(G()), OffM), WordAt(c, OffCoroMP), Wrong("coro.mp", OffCoroMP))
	})
	next()
}
