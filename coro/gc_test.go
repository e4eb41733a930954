package coro_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// node is a heap object whose contents say whether it is intact: with
// GODEBUG=clobberfree=1 the runtime overwrites freed objects, so an object
// freed while still in use fails check.
type node struct {
	id   int
	data [16]int
	next *node
}

func newNode(id int, next *node) *node {
	n := &node{id: id, next: next}
	for i := range n.data {
		n.data[i] = id*31 + i
	}
	return n
}

// check walks the list and reports the first broken node.
func check(n *node, want int) string {
	count := 0
	for ; n != nil; n = n.next {
		for i, v := range n.data {
			if v != n.id*31+i {
				return fmt.Sprintf("node %d: data[%d] = %#x", n.id, i, v)
			}
		}
		count++
	}
	if count != want {
		return fmt.Sprintf("list has %d nodes, want %d", count, want)
	}
	return ""
}

func list(n, base int) *node {
	var head *node
	for i := 0; i < n; i++ {
		head = newNode(base+i, head)
	}
	return head
}

// churn changes a coroutine's list between yields: every fourth time it
// leaves the old list behind as garbage for a new one, otherwise it grows
// it by a fresh node. It returns the list and its length.
func churn(l *node, n, in int) (*node, int) {
	if in%4 == 3 {
		return list(8, 1000+in), 8
	}
	return newNode(in, l), n + 1
}

// runTortured runs the test in a child process with freed memory clobbered
// and the GC running constantly, and expects it to print "intact".
func runTortured(t *testing.T) {
	r := testproc.Run(t, "GODEBUG=clobberfree=1")
	require.NoError(t, r.Err, r.Output)
	assert.Contains(t, r.Output, "intact")
	t.Log(lastLine(r.Output, "intact"))
}

func lastLine(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestGCTortureRaw: 100,000 or more yields of Raw coroutines in regions of
// 100, so that GC cycles start between them and overlap them, with heap
// objects held only in the coroutine's frames across yields and only in
// the parent's frames while it runs, and fresh allocations on both sides.
func TestGCTortureRaw(t *testing.T) {
	if !testproc.IsChild(t) {
		runTortured(t)
		return
	}
	cycles, stop := testproc.GCLoop()
	defer stop()
	var broken string
	// At least 1,000 regions, and on until the collector has run 20 times
	// meanwhile: a torture it hardly interrupted would prove little.
	for region := 0; (region < 1000 || cycles() < 20) && broken == ""; region++ {
		require.Less(t, region, 100_000, "the collector did not run")
		coro.Region(func() {
			c := coro.New(func(c *coro.Coro[int, string], in int) string {
				mine, n := list(8, 1000), 8 // only this frame points at it
				for {
					if b := check(mine, n); b != "" {
						return "coroutine: " + b
					}
					mine, n = churn(mine, n, in)
					in = c.Yield("")
				}
			}, coro.WithEngine(coro.Raw))
			parents := list(8, 0) // only the parent's frame points at it
			for i := 0; i < 100; i++ {
				if out, _ := c.Resume(i); out != "" {
					broken = out
					return
				}
				if b := check(parents, 8); b != "" {
					broken = "parent: " + b
					return
				}
			}
			c.Close()
		})
	}
	require.Empty(t, broken)
	fmt.Printf("intact: 100,000+ raw yields, %d GC cycles\n", cycles())
}

// TestGCTortureGoroutine: the Goroutine engine under the same conditions,
// with the body also blocking on channels, making system calls and
// decoding JSON from a Reader whose Read yields.
func TestGCTortureGoroutine(t *testing.T) {
	if !testproc.IsChild(t) {
		runTortured(t)
		return
	}
	cycles, stop := testproc.GCLoop()
	defer stop()
	pong := make(chan int)
	go func() {
		for v := range pong {
			pong <- v + 1
		}
	}()
	defer close(pong)

	c := coro.New(func(c *coro.Coro[int, string], in int) string {
		mine, n := list(8, 1000), 8
		for in < 100_000 {
			if b := check(mine, n); b != "" {
				return "coroutine: " + b
			}
			switch in % 100 {
			case 10: // block on a channel round trip
				pong <- in
				if <-pong != in+1 {
					return "channel"
				}
			case 20: // system calls
				if _, err := os.ReadFile("/proc/self/stat"); err != nil {
					return err.Error()
				}
				syscall.Getppid()
			case 30: // a library's frames across yields
				var v struct{ A []int }
				if err := json.NewDecoder(&yieldingReader{c: c, s: `{"A":[1,2,3,4,5,6,7,8,9]}`}).Decode(&v); err != nil || len(v.A) != 9 {
					return fmt.Sprint("json: ", err, v)
				}
			}
			mine, n = churn(mine, n, in)
			in = c.Yield("")
		}
		return "done"
	})
	parents := list(8, 0)
	for i := 0; ; i++ {
		out, alive := c.Resume(i)
		require.Empty(t, check(parents, 8), "parent")
		if !alive {
			require.Equal(t, "done", out)
			break
		}
		require.Empty(t, out)
	}
	require.GreaterOrEqual(t, cycles(), int64(10), "a torture the collector hardly interrupted proves little")
	fmt.Printf("intact: 100,000+ goroutine-engine yields with blocking, syscalls and JSON, %d GC cycles\n", cycles())
}

// yieldingReader hands out one byte per Read and yields in between, so
// that json.Decoder's buffers live only in the suspended coroutine's
// frames while it is suspended.
type yieldingReader struct {
	c *coro.Coro[int, string]
	s string
}

func (r *yieldingReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	r.c.Yield("")
	p[0], r.s = r.s[0], r.s[1:]
	return 1, nil
}

// Each operation that is forbidden inside a Region ends the process with
// the runtime's (or corokit's) fatal error, checked here in a child.
func TestRegionForbidden(t *testing.T) {
	raw := coro.WithEngine(coro.Raw)
	cases := []struct {
		name  string
		wants []string // any of them
		run   func()
	}{
		{"park in the parent", []string{"fatal error: schedule: holding locks"}, func() {
			ch := make(chan int)
			go func() { time.Sleep(10 * time.Millisecond); ch <- 1 }()
			coro.Region(func() { <-ch })
		}},
		{"park in a raw coroutine", []string{"fatal error: schedule: holding locks"}, func() {
			coro.Region(func() {
				ch := make(chan int)
				go func() { time.Sleep(10 * time.Millisecond); ch <- 1 }()
				c := coro.New(func(c *coro.Coro[int, int], in int) int { return <-ch }, raw)
				c.Resume(0)
			})
		}},
		{"panic in a raw coroutine", []string{"panic: boom", "fatal error: panic holding locks"}, func() {
			coro.Region(func() {
				c := coro.New(func(c *coro.Coro[int, int], in int) int {
					defer func() { recover() }() // even a recovered panic
					panic("boom")
				}, raw)
				c.Resume(0)
			})
		}},
		{"overflow of a raw stack", []string{"fatal error: stack size not a power of 2"}, func() {
			coro.Region(func() {
				c := coro.New(func(c *coro.Coro[int, int], in int) int { return recurse(in) }, raw, coro.WithStackSize(16<<10))
				c.Resume(1 << 20)
			})
		}},
		{"stop the world", []string{"fatal error: stopTheWorld: holding locks"}, func() {
			coro.Region(func() {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
			})
		}},
		{"goroutine engine inside a region", []string{"fatal error: coro: Resume of a Goroutine-engine coroutine inside a Region"}, func() {
			c := coro.New(func(c *coro.Coro[int, int], in int) int { return in })
			coro.Region(func() { c.Resume(0) })
		}},
		{"goroutine engine stack trace inside a region", []string{"fatal error: coro: StackTrace of a Goroutine-engine coroutine inside a Region"}, func() {
			c := coro.New(func(c *coro.Coro[int, int], in int) int { return c.Yield(in) })
			c.Resume(0)
			coro.Region(func() { c.StackTrace() })
		}},
		// Without "fatal error: ": the dying thread and Region's own check
		// may throw at once, and their messages interleave.
		{"syscalls while the GC runs", []string{"stopm holding locks", "traceback did not unwind completely", "ctx: the goroutine left its thread inside a Region"}, func() {
			_, stop := testproc.GCLoop()
			defer stop()
			for i := 0; i < 2000; i++ {
				coro.Region(func() {
					c := coro.New(func(c *coro.Coro[int, int], in int) int {
						for j := 0; j < 10; j++ {
							os.ReadFile("/proc/self/stat")
						}
						return 0
					}, raw)
					c.Resume(0)
				})
			}
		}},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			if testproc.IsChild(t) {
				tc.run()
				fmt.Println("survived")
				return
			}
			r := testproc.Run(t)
			require.Error(t, r.Err, "the child survived:\n%s", r.Output)
			found := false
			for _, w := range tc.wants {
				if strings.Contains(r.Output, w) {
					found = true
					t.Log(w)
				}
			}
			assert.True(t, found, "want one of %q in:\n%s", tc.wants, r.Output)
		})
	}
}

//go:noinline
func recurse(n int) int {
	var pad [128]byte
	pad[n%128] = byte(n)
	if n == 0 {
		return 0
	}
	return recurse(n-1) + int(pad[(n+3)%128])
}
