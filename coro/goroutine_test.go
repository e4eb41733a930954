package coro_test

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGoroutineClose(t *testing.T) {
	t.Run("unwinds, innermost defer first", func(t *testing.T) {
		var order []string
		yieldReturned := false
		c := coro.New(func(c *coro.Coro[int, int], in int) int {
			defer func() { order = append(order, "outer") }()
			func() {
				defer func() { order = append(order, "inner") }()
				c.Yield(1)
				yieldReturned = true
			}()
			return 0
		})
		c.Resume(0)
		require.NoError(t, c.Close())
		assert.Equal(t, []string{"inner", "outer"}, order)
		assert.False(t, yieldReturned, "the pending Yield never returns normally")
		assert.True(t, c.Done())
		assert.NoError(t, c.Close(), "idempotent")
		assert.PanicsWithValue(t, "coro: Resume of a closed coroutine", func() { c.Resume(0) })
	})
	t.Run("recover and yield again", func(t *testing.T) {
		c := coro.New(func(c *coro.Coro[int, int], in int) int {
			defer func() {
				recover()
				c.Yield(2) // refuses to die
			}()
			return c.Yield(1)
		})
		c.Resume(0)
		err := c.Close()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "yielded again")
		assert.True(t, c.Done())
		assert.Equal(t, err, c.Close(), "a second Close returns the first's result")
	})
	t.Run("panic while unwinding", func(t *testing.T) {
		c := coro.New(func(c *coro.Coro[int, int], in int) int {
			defer func() { panic("in a defer") }()
			return c.Yield(1)
		})
		c.Resume(0)
		var pe *coro.PanicError
		require.ErrorAs(t, c.Close(), &pe)
		assert.Equal(t, "in a defer", pe.Value)
	})
	t.Run("running", func(t *testing.T) {
		var err error
		c := coro.New(func(c *coro.Coro[int, int], in int) int {
			err = c.Close()
			return 0
		})
		c.Resume(0)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "running")
	})
	t.Run("never started", func(t *testing.T) {
		ran := false
		c := coro.New(func(c *coro.Coro[int, int], in int) int { ran = true; return 0 })
		require.NoError(t, c.Close())
		assert.False(t, ran)
		assert.True(t, c.Done())
	})
}

func TestGoroutinePanicPropagates(t *testing.T) {
	boom := errors.New("boom")
	c := coro.New(func(c *coro.Coro[int, int], in int) int {
		c.Yield(1)
		explode(boom)
		return 0
	})
	c.Resume(0)
	var pe *coro.PanicError
	func() {
		defer func() { pe, _ = recover().(*coro.PanicError) }()
		c.Resume(0)
	}()
	require.NotNil(t, pe, "Resume panics with a *PanicError")
	assert.Equal(t, boom, pe.Value, "the original value")
	assert.ErrorIs(t, pe, boom)
	assert.Contains(t, string(pe.Stack), "coro_test.explode", "the coroutine's stack at the panic")
	assert.True(t, c.Done())
}

//go:noinline
func explode(err error) { panic(err) }

func TestGoroutineMisuseFromAnotherGoroutine(t *testing.T) {
	entered, release := make(chan bool), make(chan bool)
	c := coro.New(func(c *coro.Coro[int, int], in int) int {
		entered <- true
		<-release // blocking is fine on the Goroutine engine
		return c.Yield(in)
	})
	resumed := make(chan bool)
	go func() { c.Resume(1); close(resumed) }()
	<-entered
	assert.PanicsWithValue(t, "coro: Resume of a running coroutine", func() { c.Resume(2) })
	close(release)
	<-resumed // a Coro is not for concurrent use: order the calls
	// Suspended now; Yield from this goroutine is outside the body.
	assert.PanicsWithValue(t, "coro: Yield outside the coroutine's body (the coroutine is suspended)", func() { c.Yield(3) })
	c.Close()
}

func TestGoroutineCleanupWhenUnreachable(t *testing.T) {
	const body = "coro_test.TestGoroutineCleanupWhenUnreachable." // its closures
	var started, unwound atomic.Int32
	handles := make([]*coro.Coro[int, int], 100)
	for i := range handles {
		handles[i] = coro.New(func(c *coro.Coro[int, int], in int) int {
			started.Add(1)
			defer unwound.Add(1)
			for {
				in = c.Yield(in)
			}
		})
		handles[i].Resume(i) // suspended
	}
	require.Equal(t, int32(100), started.Load())
	// Counted while the handles are reachable: a collection that finds
	// them unreachable may close them at any time after.
	require.Equal(t, 100, testproc.Goroutines(body), "each body on a goroutine of its own, parked in Yield")
	require.Zero(t, unwound.Load())
	runtime.KeepAlive(handles) // and forgotten from here on
	assert.Zero(t, testproc.WaitGone(body), "forgotten coroutines' goroutines exit")
	assert.Equal(t, int32(100), unwound.Load(), "and their deferred calls run")
}

// runtime.Goexit in the body ends the resumer's goroutine too, as it does
// through iter.Pull: the body's goroutine is only a stand-in for the
// resumer's, and code after Resume must not run as if the body returned.
func TestGoroutineGoexit(t *testing.T) {
	c := coro.New(func(c *coro.Coro[int, int], in int) int {
		c.Yield(1)
		runtime.Goexit()
		return 2
	})
	var afterResume, deferred atomic.Bool
	testproc.OnNewGoroutine(func() {
		defer deferred.Store(true)
		c.Resume(0)
		c.Resume(0)
		afterResume.Store(true)
	})
	assert.True(t, deferred.Load(), "the resumer's deferred calls ran")
	assert.False(t, afterResume.Load(), "the resumer did not go on after Resume")
	assert.True(t, c.Done())
	assert.PanicsWithValue(t, "coro: Resume of a finished coroutine", func() { c.Resume(0) })
}

func TestGoroutineWithPanicValues(t *testing.T) {
	boom := errors.New("boom")
	c := coro.New(func(c *coro.Coro[int, int], in int) int {
		c.Yield(1)
		panic(boom)
	}, coro.WithPanicValues())
	c.Resume(0)
	assert.PanicsWithError(t, "boom", func() { c.Resume(0) }, "the body's own value, not a *PanicError")
	assert.True(t, c.Done())
}

// Where gabi cannot verify iter.Pull's state (a Go release it was not
// generated for), the Goroutine engine switches through iter.Pull alone
// and keeps every promise: values, panics carried to the resumer, Close's
// unwinding that no recover stops, and a Goexit that ends the resumer.
func TestGoroutineWithoutPullState(t *testing.T) {
	coro.WithoutPullState(func() {
		var order []string
		c := coro.New(func(c *coro.Coro[int, int], in int) int {
			defer func() { order = append(order, "deferred") }()
			defer func() { recover() }() // cannot stop Close
			for {
				in = c.Yield(in * 2)
			}
		})
		require.False(t, coro.UsesPullState(c))
		for i := 1; i <= 3; i++ {
			out, alive := c.Resume(i)
			require.True(t, alive)
			require.Equal(t, 2*i, out)
		}
		require.NoError(t, c.Close())
		assert.Equal(t, []string{"deferred"}, order)
		assert.True(t, c.Done())

		p := coro.New(func(c *coro.Coro[int, int], in int) int { panic("boom") })
		var pe *coro.PanicError
		func() {
			defer func() { pe, _ = recover().(*coro.PanicError) }()
			p.Resume(0)
		}()
		require.NotNil(t, pe)
		assert.Equal(t, "boom", pe.Value)

		g := coro.New(func(c *coro.Coro[int, int], in int) int { runtime.Goexit(); return 0 })
		resumed := make(chan bool)
		go func() {
			defer close(resumed)
			g.Resume(0)
			resumed <- true // not reached: the body's Goexit ends this goroutine too
		}()
		_, ok := <-resumed
		assert.False(t, ok)
	})
}
