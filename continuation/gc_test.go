package continuation_test

import (
	"fmt"
	"testing"

	"github.com/corokit/corokit/continuation"
	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type cell struct {
	id   int
	data [8]int
}

func newCell(id int) *cell {
	c := &cell{id: id}
	for i := range c.data {
		c.data[i] = id ^ i
	}
	return c
}

func (c *cell) intact() bool {
	for i, v := range c.data {
		if v != c.id^i {
			return false
		}
	}
	return true
}

// TestGCTortureNested: continuations nested two deep, yielding both to
// the inner scope and through it to the outer one, holding heap objects
// only in their frames, with freed memory clobbered and the GC running
// (for Raw, whenever the 1,000 regions let it). The Goroutine engine's
// outermost Run and own-scope yields take the direct path, the yields
// through the inner one the loop in Run's hook. On Raw, an inner Run and
// Yield after an inner yield take the fast paths (fast.go), the others
// link the lazily mounted continuation in.
func TestGCTortureNested(t *testing.T) { tortureOnEngines(t, tortureNested) }

// tortureOnEngines runs torture for each engine in a child process with
// freed memory clobbered (GODEBUG=clobberfree=1); the child must say
// "intact".
func tortureOnEngines(t *testing.T, torture func(t *testing.T, e engine)) {
	forEngines(t, func(t *testing.T, e engine) {
		if !testproc.IsChild(t) {
			r := testproc.Run(t, "GODEBUG=clobberfree=1")
			require.NoError(t, r.Err, r.Output)
			assert.Contains(t, r.Output, "intact")
			return
		}
		torture(t, e)
	})
}

func tortureNested(t *testing.T, e engine) {
	outerScope, innerScope := continuation.NewScope("outer"), continuation.NewScope("inner")
	cycles, stop := testproc.GCLoop()
	defer stop()
	broken := 0
	// At least 1,000 rounds, and on until the collector has run 20 times
	// meanwhile: a torture it never interrupted would prove nothing.
	for round := 0; round < 1000 || cycles() < 20; round++ {
		require.Less(t, round, 1_000_000, "the collector did not run")
		e.run(func() {
			outer := continuation.New(outerScope, func() {
				mine := newCell(1)
				inner := continuation.New(innerScope, func() {
					for i := 0; ; i++ {
						held := newCell(100 + i)
						if i%3 != 2 {
							continuation.Yield(innerScope) // on Raw, mostly the fast paths
						} else {
							continuation.Yield(outerScope) // through inner
						}
						if !held.intact() {
							broken++
						}
					}
				}, e.opts...)
				for {
					inner.Run()
					if !mine.intact() {
						broken++
					}
					mine = newCell(mine.id + 1)
				}
			}, e.opts...)
			parents := newCell(7)
			for i := 0; i < 50; i++ {
				outer.Run()
				if !parents.intact() {
					broken++
				}
			}
			outer.Close()
		})
	}
	require.Zero(t, broken)
	fmt.Printf("intact: nested %s continuations, %d GC cycles meanwhile\n", e.name, cycles())
}

// TestCurrentInsideRegionUnderGC: Current from Raw continuations while the
// collector runs. It once turned a weak pointer into a strong one, which
// can wait for the collector: inside a Region that is "fatal error:
// schedule: holding locks".
func TestCurrentInsideRegionUnderGC(t *testing.T) {
	if !testproc.IsChild(t) {
		r := testproc.Run(t)
		require.NoError(t, r.Err, r.Output)
		assert.Contains(t, r.Output, "intact")
		return
	}
	scope := continuation.NewScope("current")
	cycles, stop := testproc.GCLoop()
	defer stop()
	wrong := 0
	for round := 0; round < 2000 || cycles() < 50; round++ {
		require.Less(t, round, 1_000_000, "the collector did not run")
		coro.Region(func() {
			var c *continuation.Continuation
			c = continuation.New(scope, func() {
				for i := 0; i < 100; i++ {
					if continuation.Current(scope) != c {
						wrong++
					}
				}
			}, coro.WithEngine(coro.Raw))
			c.Run()
		})
	}
	require.Zero(t, wrong)
	fmt.Printf("intact: Current inside regions, %d GC cycles meanwhile\n", cycles())
}

// TestGCTortureFastPaths: a continuation that yields to its own scope, so
// that from its second round on Run and Yield take the fast paths (the
// Goroutine engine's as the outermost continuation), with heap objects
// held only in its frames and in Run's caller's, and the handle reached
// through Current, with freed memory clobbered and the GC running.
func TestGCTortureFastPaths(t *testing.T) { tortureOnEngines(t, tortureFastPaths) }

func tortureFastPaths(t *testing.T, e engine) {
	scope := continuation.NewScope("fast")
	cycles, stop := testproc.GCLoop()
	defer stop()
	broken, yields, closeErrs := 0, 0, 0
	for round := 0; round < 100 || cycles() < 20; round++ {
		require.Less(t, round, 100_000, "the collector did not run")
		e.run(func() {
			var c *continuation.Continuation
			c = continuation.New(scope, func() {
				for i := 0; ; i++ {
					held := newCell(i)
					continuation.Yield(scope)
					if !held.intact() || continuation.Current(scope) != c {
						broken++
					}
				}
			}, e.opts...)
			mine := newCell(-1)
			for i := 0; i < 1000; i++ {
				c.Run()
				yields++
				if !mine.intact() {
					broken++
				}
				mine = newCell(mine.id - 1)
			}
			if c.Close() != nil { // not require: this may run inside a Region
				closeErrs++
			}
		})
	}
	require.Zero(t, closeErrs)
	require.Zero(t, broken)
	fmt.Printf("intact: %d fast %s yields, %d GC cycles meanwhile\n", yields, e.name, cycles())
}
