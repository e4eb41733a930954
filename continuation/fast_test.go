package continuation

// White-box tests of the fast paths (fast.go): the states they leave, and
// the Go paths that link a continuation they mounted into the chain.

import (
	"testing"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/internal/gabi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fastScope = NewScope("fast")

func carrierHere() *carrier { return lookupCarrier(gabi.G()) }

func TestFastPathsMountLazily(t *testing.T) {
	type seen struct {
		fast       uintptr
		lazy, self bool // car.lazy is k; car.cur is k
		current    bool // Current found it
		closeErr   error
	}
	var log []seen
	var c *Continuation
	look := func(settle bool) {
		k, car := c.cont, carrierHere()
		s := seen{fast: k.fast, lazy: car.lazy == uintptr(pointerOf(k)), self: car.cur == k}
		if settle {
			s.current = Current(fastScope) == c // links k in
			s.fast, s.lazy, s.self = k.fast, car.lazy != 0, car.cur == k
		}
		s.closeErr = c.Close()
		log = append(log, s)
	}
	coro.Region(func() {
		c = New(fastScope, func() {
			look(false) // first Run: the hook mounted it
			Yield(fastScope)
			look(true) // the fast way, then linked in by Current
			Yield(fastScope)
			look(false) // the fast way
			Yield(fastScope)
			look(false) // and it ends mounted the fast way
		}, coro.WithEngine(coro.Raw))
		for i := 0; !c.IsDone(); i++ {
			c.Run()
			car := carrierHere()
			require.Zero(t, car.lazy, "Run %d returned with a continuation mounted the fast way", i)
			require.Nil(t, car.cur, "Run %d returned with a continuation mounted", i)
			if !c.IsDone() {
				require.Equal(t, uintptr(fastSuspended), c.fast, "Run %d", i)
			}
		}
		assert.Equal(t, uintptr(slowOnly), c.fast, "done")
	})
	mountedErr := "continuation: Close of a mounted continuation of scope fast"
	require.Len(t, log, 4)
	assert.Equal(t, uintptr(slowOnly), log[0].fast)
	assert.True(t, log[0].self)
	assert.Equal(t, seen{fast: slowOnly, self: true, current: true}, seen{fast: log[1].fast, self: log[1].self, current: log[1].current})
	for i, s := range log {
		assert.EqualError(t, s.closeErr, mountedErr, "look %d", i)
	}
	for _, i := range []int{2, 3} {
		assert.Equal(t, uintptr(fastMounted), log[i].fast, "look %d", i)
		assert.True(t, log[i].lazy, "look %d: not in carrier.lazy", i)
		assert.False(t, log[i].self, "look %d: linked in", i)
	}
}

// An inner continuation's Run links in an outer one mounted the fast way,
// and is itself fast from its second Run on.
func TestFastPathsNested(t *testing.T) {
	inner := NewScope("inner")
	var parents []bool
	var outerFast, innerFast []uintptr
	coro.Region(func() {
		var o, j *Continuation
		o = New(fastScope, func() {
			j = New(inner, func() {
				for {
					innerFast = append(innerFast, j.fast)
					parents = append(parents, Current(fastScope) == o && carrierHere().cur.parent == o.cont)
					Yield(inner)
				}
			}, coro.WithEngine(coro.Raw))
			for {
				for i := 0; i < 3; i++ {
					j.Run()
					outerFast = append(outerFast, o.fast)
				}
				Yield(fastScope)
			}
		}, coro.WithEngine(coro.Raw))
		for i := 0; i < 3; i++ {
			o.Run()
		}
		require.NoError(t, o.Close())
		require.NoError(t, j.Close())
	})
	assert.Equal(t, []bool{true, true, true, true, true, true, true, true, true}, parents)
	// The first inner Run links o in; o stays linked until it yields. Then
	// the inner one is mounted the fast way, until o's next Run.
	assert.Equal(t, []uintptr{0, 0, 0, 0, 0, 0, 0, 0, 0}, outerFast)
	assert.Equal(t, []uintptr{0, 2, 2, 0, 2, 2, 0, 2, 2}, innerFast)
}

// A continuation left suspended when its Region ended cannot be mounted
// the fast way outside a region: Run reports it done and mounts nothing.
func TestRunAfterRegionEnded(t *testing.T) {
	var c *Continuation
	require.PanicsWithValue(t, "coro: Region ended with 1 Raw coroutine(s) still suspended: they were discarded without running their deferred calls", func() {
		coro.Region(func() {
			c = New(fastScope, func() {
				for {
					Yield(fastScope)
				}
			}, coro.WithEngine(coro.Raw))
			c.Run()
			c.Run()
			require.Equal(t, uintptr(fastSuspended), c.fast)
		})
	})
	assert.PanicsWithValue(t, "continuation: Run of a done continuation of scope fast", c.Run)
	car := carrierHere()
	require.NotNil(t, car)
	assert.Zero(t, car.lazy)
	assert.Nil(t, car.cur)
}
