package coro_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/corokit/corokit/stackalloc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// engine is one row of the semantic suite: how to make coroutines and
// where they must run. Raw cases run inside a Region, where a failing
// require (Goexit) is fatal: the tests there collect results and check
// them after the region.
type engine struct {
	name string
	opts []coro.Option
	run  func(fn func())
}

var engines = []engine{
	{"goroutine", []coro.Option{coro.WithEngine(coro.Goroutine)}, func(fn func()) { fn() }},
	{"raw", []coro.Option{coro.WithEngine(coro.Raw)}, coro.Region},
}

func forEngines(t *testing.T, test func(t *testing.T, e engine)) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { test(t, e) })
	}
}

type result struct {
	out   string
	alive bool
}

func TestValuesInAndOut(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var got []result
		var done []bool
		e.run(func() {
			c := coro.New(func(c *coro.Coro[int, string], in int) string {
				sum := in
				for i := 0; i < 3; i++ {
					sum += c.Yield(fmt.Sprintf("sum=%d", sum))
				}
				return fmt.Sprintf("total=%d", sum)
			}, e.opts...)
			done = append(done, c.Done())
			for _, in := range []int{1, 10, 100, 1000} {
				out, alive := c.Resume(in)
				got = append(got, result{out, alive})
				done = append(done, c.Done())
			}
		})
		assert.Equal(t, []result{{"sum=1", true}, {"sum=11", true}, {"sum=111", true}, {"total=1111", false}}, got)
		assert.Equal(t, []bool{false, false, false, false, true}, done)
	})
}

//go:noinline
func descend(c *coro.Coro[int, int], depth, n int) int {
	if n == 0 {
		return c.Yield(depth) // yield from the bottom, resume there
	}
	var pad [64]byte // locals that must survive the switches
	pad[n%64] = byte(n)
	r := descend(c, depth, n-1)
	return r + int(pad[n%64]) - int(byte(n))
}

func TestDeepRecursion(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		const depth = 2000
		var got []result
		var outs []int
		e.run(func() {
			c := coro.New(func(c *coro.Coro[int, int], in int) int {
				total := 0
				for i := 0; i < 5; i++ {
					total += descend(c, depth+i, depth)
				}
				return total
			}, append(e.opts, coro.WithStackSize(1<<20))...)
			for i := 0; i < 6; i++ {
				out, alive := c.Resume(i)
				outs = append(outs, out)
				got = append(got, result{alive: alive})
			}
		})
		assert.Equal(t, []int{depth, depth + 1, depth + 2, depth + 3, depth + 4, 1 + 2 + 3 + 4 + 5}, outs)
		assert.False(t, got[5].alive)
	})
}

func TestManyInterleaved(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		const n, rounds = 1000, 5
		var bad []string
		e.run(func() {
			cs := make([]*coro.Coro[int, int], n)
			for i := range cs {
				id := i
				cs[i] = coro.New(func(c *coro.Coro[int, int], in int) int {
					acc := id
					for {
						acc += in
						in = c.Yield(acc)
					}
				}, append(e.opts, coro.WithStackSize(16<<10))...)
			}
			for r := 1; r <= rounds; r++ {
				for i, c := range cs {
					got, alive := c.Resume(r)
					if want := i + r*(r+1)/2; got != want || !alive {
						bad = append(bad, fmt.Sprintf("coroutine %d round %d: %d, %v", i, r, got, alive))
					}
				}
			}
			for _, c := range cs {
				c.Close()
			}
		})
		assert.Empty(t, bad)
	})
}

func TestNested(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var log []string
		e.run(func() {
			outer := coro.New(func(outer *coro.Coro[string, string], in string) string {
				inner := coro.New(func(inner *coro.Coro[string, string], in string) string {
					log = append(log, "inner got "+in)
					in = inner.Yield("i1")
					log = append(log, "inner got "+in)
					return "i-done"
				}, e.opts...)
				v, _ := inner.Resume("from outer")
				in = outer.Yield("outer saw " + v)
				v, alive := inner.Resume(in)
				return fmt.Sprintf("outer saw %s %v", v, alive)
			}, e.opts...)
			v, _ := outer.Resume("start")
			log = append(log, v)
			v, alive := outer.Resume("relayed")
			log = append(log, fmt.Sprintf("%s / %v", v, alive))
		})
		assert.Equal(t, []string{"inner got from outer", "outer saw i1", "inner got relayed", "outer saw i-done false / false"}, log)
	})
}

//go:noinline
func level2(c *coro.Coro[int, int]) int { return c.Yield(2) + 1 }

//go:noinline
func level1(c *coro.Coro[int, int]) int { return level2(c) + 1 }

func TestStackTrace(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var before, suspended, after []runtime.Frame
		e.run(func() {
			c := coro.New(func(c *coro.Coro[int, int], in int) int {
				return level1(c)
			}, e.opts...)
			before = c.StackTrace()
			c.Resume(0)
			suspended = c.StackTrace()
			c.Resume(0)
			after = c.StackTrace()
		})
		assert.Nil(t, before, "not started")
		assert.Nil(t, after, "finished")
		var names []string
		for _, f := range suspended {
			names = append(names, f.Function)
		}
		require.Len(t, names, 3, "%v", names)
		assert.Equal(t, "github.com/corokit/corokit/coro_test.level2", names[0])
		assert.Equal(t, "github.com/corokit/corokit/coro_test.level1", names[1])
		assert.Regexp(t, `coro_test\.TestStackTrace\.func1\.1\.1$`, names[2], "ends at the body")
		assert.Contains(t, suspended[0].File, "coro_test.go")
		assert.NotZero(t, suspended[0].Line)
	})
}

func TestPull(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var got []int
		var cleanedUp bool
		e.run(func() {
			next, stop := coro.Pull(func(yield func(int) bool) {
				defer func() { cleanedUp = true }()
				for i := 1; ; i *= 2 {
					if !yield(i) {
						return
					}
				}
			}, e.opts...)
			for i := 0; i < 5; i++ {
				v, ok := next()
				if ok {
					got = append(got, v)
				}
			}
			stop()
			if _, ok := next(); ok {
				got = append(got, -1)
			}
			stop() // idempotent
		})
		assert.Equal(t, []int{1, 2, 4, 8, 16}, got)
		assert.True(t, cleanedUp, "stop makes yield return false, so the sequence's defers run")
	})
}

// Misuse: a panic naming the problem on the Goroutine engine; on Raw,
// inside a Region, the same message as a fatal error (a panic is fatal
// there), checked in a child process.
func TestMisuse(t *testing.T) {
	cases := []struct {
		name, want string
		do         func(opts []coro.Option)
	}{
		{"resume finished", "coro: Resume of a finished coroutine", func(opts []coro.Option) {
			c := coro.New(func(c *coro.Coro[int, int], in int) int { return in }, opts...)
			c.Resume(1)
			c.Resume(2)
		}},
		{"resume running from inside", "running", func(opts []coro.Option) {
			var c *coro.Coro[int, int]
			c = coro.New(func(_ *coro.Coro[int, int], in int) int { c.Resume(0); return 0 }, opts...)
			c.Resume(1)
		}},
		{"yield outside the body", "Yield outside", func(opts []coro.Option) {
			c := coro.New(func(c *coro.Coro[int, int], in int) int { return c.Yield(in) }, opts...)
			c.Resume(1)
			c.Yield(5) // from the parent
		}},
		{"yield of the outer coroutine from a nested one", "Yield", func(opts []coro.Option) {
			outer := coro.New(func(outer *coro.Coro[int, int], in int) int {
				inner := coro.New(func(inner *coro.Coro[int, int], in int) int {
					return outer.Yield(in) // wrong coroutine
				}, opts...)
				v, _ := inner.Resume(in)
				return v
			}, opts...)
			outer.Resume(1)
		}},
		{"resume after close", "coro: Resume of a closed coroutine", func(opts []coro.Option) {
			c := coro.New(func(c *coro.Coro[int, int], in int) int { return c.Yield(in) }, opts...)
			c.Resume(1)
			c.Close()
			c.Resume(2)
		}},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Run("goroutine", func(t *testing.T) {
				defer func() {
					r := recover()
					require.NotNil(t, r, "no panic")
					assert.Contains(t, fmt.Sprint(r), tc.want)
				}()
				tc.do([]coro.Option{coro.WithEngine(coro.Goroutine)})
			})
			t.Run("raw", func(t *testing.T) {
				if testproc.IsChild(t) {
					coro.Region(func() { tc.do([]coro.Option{coro.WithEngine(coro.Raw)}) })
					t.Fatal("no fatal error")
				}
				r := testproc.Run(t)
				require.Error(t, r.Err, r.Output)
				assert.Contains(t, r.Output, "fatal error: ")
				assert.Contains(t, r.Output, tc.want, r.Output)
			})
		})
	}
}

func TestRawOutsideRegion(t *testing.T) {
	assert.PanicsWithValue(t, "coro: New with the Raw engine outside coro.Region: raw coroutines run only in a pinned region, "+
		"where the garbage collector cannot scan one stack of the goroutine while another is live",
		func() { coro.New(func(c *coro.Coro[int, int], in int) int { return in }, coro.WithEngine(coro.Raw)) })
}

func TestRegionDiscardsSuspended(t *testing.T) {
	var c1 *coro.Coro[int, int]
	var deferRan bool
	assert.PanicsWithValue(t, "coro: Region ended with 2 Raw coroutine(s) still suspended: they were discarded without running their deferred calls", func() {
		coro.Region(func() {
			body := func(c *coro.Coro[int, int], in int) int {
				defer func() { deferRan = true }()
				return c.Yield(in)
			}
			c1 = coro.New(body, coro.WithEngine(coro.Raw))
			c1.Resume(1)
			coro.New(body, coro.WithEngine(coro.Raw)) // never started: left too
			done := coro.New(func(c *coro.Coro[int, int], in int) int { return in }, coro.WithEngine(coro.Raw))
			done.Resume(3) // finished: not left
		})
	})
	assert.False(t, deferRan)
	assert.True(t, c1.Done())
	assert.PanicsWithValue(t, "coro: Resume of a Raw coroutine whose Region has ended", func() { c1.Resume(2) })
}

func TestOptionsRejectNonsense(t *testing.T) {
	assert.PanicsWithValue(t, "coro: WithStackSize(100): want 4096 to 1073741824 bytes", func() { coro.WithStackSize(100) })
	assert.Panics(t, func() { coro.WithStackSize(-1) })
	assert.Panics(t, func() { coro.WithEngine(7) })
	assert.Panics(t, func() { coro.WithAllocator(nil) })
	assert.PanicsWithValue(t, "coro: New with a nil body", func() { coro.New[int, int](nil) })
}

func TestRawCloseDiscards(t *testing.T) {
	var deferRan bool
	var err1, err2 error
	var done bool
	coro.Region(func() {
		c := coro.New(func(c *coro.Coro[int, int], in int) int {
			defer func() { deferRan = true }()
			return c.Yield(in)
		}, coro.WithEngine(coro.Raw))
		c.Resume(1)
		err1, err2 = c.Close(), c.Close()
		done = c.Done()
	})
	assert.NoError(t, err1)
	assert.NoError(t, err2)
	assert.True(t, done)
	assert.False(t, deferRan, "Raw Close cannot unwind: a panic is fatal in a region")
}

func TestRawStacksAreRecycled(t *testing.T) {
	// A long region of short coroutines must not pile up stacks: a finished
	// coroutine's stack is freed by the next New.
	a := stackalloc.New()
	maxLive := 0
	coro.Region(func() {
		for i := 0; i < 10000; i++ {
			c := coro.New(func(c *coro.Coro[int, int], in int) int { return in + 1 }, coro.WithEngine(coro.Raw), coro.WithAllocator(a))
			c.Resume(i)
			if i%500 == 0 { // Stats reads mincore and /proc: sample it
				maxLive = max(maxLive, a.Stats().Live)
			}
		}
	})
	assert.Equal(t, 1, maxLive, "a finished coroutine's stack is freed by the next New")
	assert.Equal(t, 0, a.Stats().Live, "the Region's end frees the last")
}
