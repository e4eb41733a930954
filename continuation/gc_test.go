package continuation_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/corokit/corokit/continuation"
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
// through the inner one the loop in Run's hook.
func TestGCTortureNested(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			if !testproc.IsChild(t) {
				r := testproc.Run(t, "GODEBUG=clobberfree=1")
				require.NoError(t, r.Err, r.Output)
				assert.Contains(t, r.Output, "intact")
				return
			}
			tortureNested(t, e)
		})
	}
}

func tortureNested(t *testing.T, e engine) {
	outerScope, innerScope := continuation.NewScope("outer"), continuation.NewScope("inner")
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	defer close(stop)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	broken := 0
	for round := 0; round < 1000; round++ {
		e.run(func() {
			outer := continuation.New(outerScope, func() {
				mine := newCell(1)
				inner := continuation.New(innerScope, func() {
					for i := 0; ; i++ {
						held := newCell(100 + i)
						if i%2 == 0 {
							continuation.Yield(innerScope)
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
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	require.NotZero(t, after.NumGC-before.NumGC, "the GC must have run meanwhile")
	fmt.Printf("intact: 50,000 nested %s continuation yields, %d GC cycles\n", e.name, after.NumGC-before.NumGC)
}
