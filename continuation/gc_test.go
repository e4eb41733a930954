package continuation_test

import (
	"fmt"
	"runtime"
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

// TestGCTortureNestedRaw: Raw continuations nested two deep, yielding both
// to the inner scope and through it to the outer one, holding heap objects
// only in their frames, with freed memory clobbered and the GC running
// whenever the regions let it (1,000 regions).
func TestGCTortureNestedRaw(t *testing.T) {
	if !testproc.IsChild(t) {
		r := testproc.Run(t, "GODEBUG=clobberfree=1")
		require.NoError(t, r.Err, r.Output)
		assert.Contains(t, r.Output, "intact")
		return
	}
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
	broken := 0
	for region := 0; region < 1000; region++ {
		coro.Region(func() {
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
				}, coro.WithEngine(coro.Raw))
				for {
					inner.Run()
					if !mine.intact() {
						broken++
					}
					mine = newCell(mine.id + 1)
				}
			}, coro.WithEngine(coro.Raw))
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
	fmt.Println("intact: 50,000 nested raw continuation yields")
}
