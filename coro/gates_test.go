package coro_test

import (
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/gabi"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each gate of the Goroutine engine's switch leaves the switch to
// iter.Pull whenever the runtime must see it. These tests show each one
// engaging: the coroutine's fallback counter counts the switches that went
// through iter.Pull.

func echo(c *coro.Coro[int, int], in int) int {
	for {
		in = c.Yield(in)
	}
}

// roundTrips resumes c n times, checking the values, and returns how many
// of the 2n switches went through iter.Pull.
func roundTrips(t *testing.T, c *coro.Coro[int, int], n int) int {
	before := coro.Fallbacks(c)
	for i := 0; i < n; i++ {
		out, alive := c.Resume(i)
		require.True(t, alive)
		require.Equal(t, i, out)
	}
	return coro.Fallbacks(c) - before
}

// requireFast checks that switches take the assembly when nothing gates
// them (in builds where the handoff is on at all).
func requireFast(t *testing.T, c *coro.Coro[int, int]) {
	t.Helper()
	slow := roundTrips(t, c, 100)
	if fastOn() {
		require.Zero(t, slow, "ungated switches take corokit's assembly")
	} else {
		require.Equal(t, 200, slow)
	}
}

func TestHandoffStatusMatchesTheBuild(t *testing.T) {
	on, why := ctx.HandoffStatus()
	t.Logf("handoff on: %v %s", on, why)
	if testproc.RaceEnabled {
		require.False(t, on)
		require.Contains(t, why, "-race")
		return
	}
	require.True(t, on, why)
	require.Empty(t, why)
}

func TestGateTracer(t *testing.T) {
	c := coro.New(echo)
	defer c.Close()
	requireFast(t, c)
	require.NoError(t, trace.Start(io.Discard))
	slow := roundTrips(t, c, 1000)
	trace.Stop()
	require.Equal(t, 2000, slow, "every switch while tracing goes through iter.Pull")
	requireFast(t, c)
}

func TestGateGoroutineProfile(t *testing.T) {
	// A goroutine profile of many goroutines records them while the world
	// runs; switches made meanwhile must let the runtime record the body.
	defer testproc.Park(20_000)()
	c := coro.New(echo)
	defer c.Close()
	requireFast(t, c)
	stop := make(chan struct{})
	profiled := make(chan int)
	go func() {
		k := 0
		for ; ; k++ {
			select {
			case <-stop:
				profiled <- k
				return
			default:
				pprof.Lookup("goroutine").WriteTo(io.Discard, 0)
			}
		}
	}()
	slow := 0
	for deadline := time.Now().Add(20 * time.Second); slow == 0 && time.Now().Before(deadline); {
		slow += roundTrips(t, c, 1000)
	}
	close(stop)
	t.Logf("%d switches went through iter.Pull during %d goroutine profiles", slow, <-profiled)
	require.Positive(t, slow, "switches during a goroutine profile go through iter.Pull")
	requireFast(t, c)
}

func TestGateLockedThread(t *testing.T) {
	t.Run("made on a locked thread", func(t *testing.T) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		c := coro.New(echo)
		defer c.Close()
		require.Equal(t, 2000, roundTrips(t, c, 1000), "every switch goes through iter.Pull, which carries the lock")
	})
	// The runtime refuses to switch a coroutine whose thread-lock state
	// changed since it was made; corokit leaves it to the runtime, which
	// says so. Made locked and unlocked later, neither goroutine is locked
	// when the body is resumed: only the coroutine remembers the lock
	// (coro.mp), and the switch must still leave it to the runtime.
	for _, tc := range []struct {
		name  string
		child func()
	}{
		{"made on a locked thread, unlocked later", func() {
			runtime.LockOSThread()
			c := coro.New(echo)
			runtime.UnlockOSThread()
			c.Resume(0)
		}},
		{"locked later", func() {
			c := coro.New(echo)
			c.Resume(0)
			runtime.LockOSThread()
			c.Resume(1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testproc.IsChild(t) {
				tc.child()
				return
			}
			r := testproc.Run(t)
			require.Error(t, r.Err)
			require.Contains(t, r.Output, "fatal error: coro: OS thread locking must match locking at coroutine creation")
		})
	}
}

func TestGateSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := coro.New(echo)
		defer c.Close()
		require.Equal(t, 2000, roundTrips(t, c, 1000), "a bubble's switches go through iter.Pull, which keeps its accounts")
	})
}

func TestGatePinned(t *testing.T) {
	// A pinned goroutine (m.locks > 0) keeps its thread: the assembly leaves
	// the switch to the hook, which throws inside a Region (see
	// TestRegionForbidden) and otherwise lets the runtime switch.
	c := coro.New(echo)
	defer c.Close()
	requireFast(t, c)
	gabi.ProcPin()
	slow := roundTrips(t, c, 10)
	gabi.ProcUnpin()
	require.Equal(t, 20, slow)
	requireFast(t, c)
}

func TestGateRuntimeSwitchOption(t *testing.T) {
	c := coro.New(echo, coro.WithRuntimeSwitch())
	defer c.Close()
	require.Equal(t, 2000, roundTrips(t, c, 1000))
}

func TestGateMisuseGoesToTheHook(t *testing.T) {
	// A switch the turn does not allow (a finished coroutine, a Yield from
	// outside the body) is left to the hook, which reports it.
	c := coro.New(func(c *coro.Coro[int, int], in int) int { return in })
	_, alive := c.Resume(1)
	require.False(t, alive)
	before := coro.Fallbacks(c)
	assert.PanicsWithValue(t, "coro: Resume of a finished coroutine", func() { c.Resume(2) })
	require.Equal(t, before+1, coro.Fallbacks(c))
	d := coro.New(echo)
	defer d.Close()
	d.Resume(0)
	before = coro.Fallbacks(d)
	assert.PanicsWithValue(t, "coro: Yield outside the coroutine's body (the coroutine is suspended)", func() { d.Yield(1) })
	require.Equal(t, before+1, coro.Fallbacks(d))
}

// Two goroutines switching through one coroutine at once (a data race on a
// Coro) can leave the handoff with a goroutine to resume that is not
// waiting in the coroutine: it throws rather than run one goroutine twice.
// The test makes that state directly: the coroutine's waiter is a
// goroutine that runs.
func TestHandoffRaceIsFatal(t *testing.T) {
	if !fastOn() {
		t.Skip("the assembly handoff is off in this build: " + whyOff())
	}
	if testproc.IsChild(t) {
		c := coro.New(echo)
		c.Resume(0)
		running := make(chan unsafe.Pointer)
		go func() {
			running <- gabi.G()
			for {
			}
		}()
		*(*unsafe.Pointer)(coro.RuntimeCoro(c)) = <-running // coro.gp
		c.Resume(1)
		return
	}
	r := testproc.Run(t)
	require.Error(t, r.Err)
	require.Contains(t, r.Output, "fatal error: ctx: two goroutines switched through one coroutine at once")
}

func whyOff() string { _, why := ctx.HandoffStatus(); return why }

// COROKIT_HANDOFF=runtime turns the assembly handoff off for the process.
func TestHandoffOffByEnvironment(t *testing.T) {
	if testproc.IsChild(t) {
		on, why := ctx.HandoffStatus()
		c := coro.New(echo)
		fmt.Printf("on=%v why=%q fallbacks=%d\n", on, why, roundTrips(t, c, 10))
		c.Close()
		return
	}
	r := testproc.Run(t, "COROKIT_HANDOFF=runtime")
	require.NoError(t, r.Err, r.Output)
	require.Contains(t, r.Output, `on=false why="COROKIT_HANDOFF=runtime in the environment" fallbacks=20`)
}
