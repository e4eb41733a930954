package continuation_test

// Scenarios after OpenJDK's test/jdk/jdk/internal/vm/Continuation/Basic.java
// and its neighbours, table-driven over both engines. Raw cases run inside
// coro.Region, where a panic is fatal: the cases about panics run on the
// Goroutine engine only, and the ones that need another goroutine to run
// or the GC to collect (which parks) too.

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/corokit/corokit/continuation"
	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type engine struct {
	name string
	opts []coro.Option
	run  func(fn func())
	gc   func() // runtime.GC where it may run
}

var engines = []engine{
	{"goroutine", nil, func(fn func()) { fn() }, runtime.GC},
	{"raw", []coro.Option{coro.WithEngine(coro.Raw)}, coro.Region, func() {}},
}

func forEngines(t *testing.T, test func(t *testing.T, e engine)) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { test(t, e) })
	}
}

var foo = continuation.NewScope("FOO")

//go:noinline
func fooFn(a int) float64 {
	x, s := int64(8), "yyy" // locals that must survive the yield
	r := bar(int64(a + 1))
	n, _ := strconv.Atoi(r)
	return float64(n) + 1 + float64(x-8) + float64(len(s)-3)
}

//go:noinline
func bar(b int64) string {
	x, s := 9.99, "zzz"
	if !continuation.Yield(foo) {
		return "pinned"
	}
	deep(40)
	return strconv.FormatInt(b+1, 10) + s[:int(x-9.99)]
}

//go:noinline
func deep(n int) int {
	if n > 1 {
		return deep(n-1) + 1
	}
	return 1
}

func names(frames []runtime.Frame) []string {
	var out []string
	for _, f := range frames {
		out = append(out, f.Function)
	}
	return out
}

// Basic.test1: freeze and thaw, locals preserved, the suspended stack.
func TestBasic(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var res float64
		var stacks [][]string
		runs := 0
		e.run(func() {
			c := continuation.New(foo, func() {
				r := 0.0
				for k := 1; k < 20; k++ {
					r += fooFn(k)
				}
				res = r
			}, e.opts...)
			for !c.IsDone() {
				c.Run()
				runs++
				e.gc()
				stacks = append(stacks, names(c.StackTrace()))
			}
		})
		assert.Equal(t, 247.0, res)
		assert.Equal(t, 20, runs, "19 yields, then the end")
		assert.Equal(t, []string{
			"github.com/corokit/corokit/continuation_test.bar",
			"github.com/corokit/corokit/continuation_test.fooFn",
			"github.com/corokit/corokit/continuation_test.TestBasic.func1.1.1",
		}, stacks[0])
		assert.Empty(t, stacks[len(stacks)-1], "a done continuation has no stack")
	})
}

//go:noinline
func manyArgs(a, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 int, f1, f2, f3, f4, f5 float64, o1, o2, o3 any) float64 {
	for i := 0; i < 2; i++ {
		continuation.Yield(foo)
	}
	return float64(a+x1+x2+x3+x4+x5+x6+x7+x8+x9+x10) + f1 + f2 + f3 + f4 + f5 + float64(o1.(int)+o2.(int)+o3.(int))
}

// Basic.testManyArgs: arguments passed on the stack survive yields.
func TestManyArgs(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var res float64
		e.run(func() {
			c := continuation.New(foo, func() {
				for k := 1; k < 5; k++ {
					res += manyArgs(k, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1.5, 2.5, 3.5, 4.5, 5.5, 1001, 1002, 1003)
				}
			}, e.opts...)
			for !c.IsDone() {
				c.Run()
			}
		})
		assert.Equal(t, 4*(55+17.5+3006)+10, res)
	})
}

//go:noinline
func recurseAndYield(n int, trail []int) []int {
	if n == 0 {
		continuation.Yield(foo)
		return trail
	}
	local := n * 7 // checked after the yield
	trail = recurseAndYield(n-1, trail)
	return append(trail, local/7)
}

func TestYieldFromDeepRecursion(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var trail []int
		var done []bool
		e.run(func() {
			c := continuation.New(foo, func() { trail = recurseAndYield(1000, nil) },
				append(e.opts, coro.WithStackSize(1<<20))...)
			c.Run()
			done = append(done, c.IsDone())
			c.Run()
			done = append(done, c.IsDone())
		})
		require.Len(t, trail, 1000)
		assert.Equal(t, 1, trail[0])
		assert.Equal(t, 1000, trail[999])
		assert.Equal(t, []bool{false, true}, done)
	})
}

func TestYieldInsideLoops(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var seen []int
		e.run(func() {
			v := 0
			c := continuation.New(foo, func() {
				for i := 0; i < 3; i++ {
					for j := 0; j < 2; j++ {
						v = i*10 + j
						continuation.Yield(foo)
					}
				}
			}, e.opts...)
			for c.Run(); !c.IsDone(); c.Run() {
				seen = append(seen, v)
			}
		})
		assert.Equal(t, []int{0, 1, 10, 11, 20, 21}, seen)
	})
}

// Yielding the inner scope returns to the outer body; yielding the outer
// scope through the inner suspends both, and the outer's next Run resumes
// the inner chain where it was.
func TestNestedScopes(t *testing.T) {
	outerScope, innerScope := continuation.NewScope("outer"), continuation.NewScope("inner")
	forEngines(t, func(t *testing.T, e engine) {
		var log []string
		var inner *continuation.Continuation
		e.run(func() {
			outer := continuation.New(outerScope, func() {
				inner = continuation.New(innerScope, func() {
					log = append(log, "inner start")
					continuation.Yield(innerScope) // to the outer body
					log = append(log, "inner resumed by outer body")
					continuation.Yield(outerScope) // through inner, to main
					log = append(log, "inner resumed through outer")
					log = append(log, fmt.Sprintf("current inner=%v outer=%v",
						continuation.Current(innerScope) == inner, continuation.Current(outerScope) != nil))
				}, e.opts...)
				inner.Run()
				log = append(log, "outer body after inner yield")
				inner.Run() // returns only once inner is done
				log = append(log, fmt.Sprintf("outer body: inner done=%v", inner.IsDone()))
			}, e.opts...)
			outer.Run()
			log = append(log, fmt.Sprintf("main: outer done=%v inner done=%v", outer.IsDone(), inner.IsDone()))
			outer.Run()
			log = append(log, fmt.Sprintf("main: outer done=%v", outer.IsDone()))
		})
		assert.Equal(t, []string{
			"inner start",
			"outer body after inner yield",
			"inner resumed by outer body",
			"main: outer done=false inner done=false",
			"inner resumed through outer",
			"current inner=true outer=true",
			"outer body: inner done=true",
			"main: outer done=true",
		}, log)
	})
}

func TestCurrent(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var inside, outside *continuation.Continuation
		var c *continuation.Continuation
		e.run(func() {
			c = continuation.New(foo, func() { inside = continuation.Current(foo) }, e.opts...)
			c.Run()
			outside = continuation.Current(foo)
		})
		assert.Same(t, c, inside)
		assert.Nil(t, outside)
		assert.Same(t, foo, c.Scope())
		assert.Equal(t, "FOO", foo.Name())
	})
}

// Basic.testPinnedCriticalSection: a Yield inside Pin/Unpin does not
// suspend; OnPinned gets the reason and the body goes on.
func TestPinnedCriticalSection(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		var reasons []continuation.PinnedReason
		var results []bool
		var done bool
		e.run(func() {
			c := continuation.New(foo, func() {
				continuation.Pin()
				results = append(results, continuation.Yield(foo))
				continuation.Unpin()
				results = append(results, continuation.Yield(foo))
			}, e.opts...)
			c.OnPinned(func(r continuation.PinnedReason) { reasons = append(reasons, r) })
			c.Run() // pinned yield, then a real one
			c.Run()
			done = c.IsDone()
		})
		assert.Equal(t, []continuation.PinnedReason{continuation.CriticalSection}, reasons)
		assert.Equal(t, []bool{false, true}, results)
		assert.True(t, done)
	})
}

// A continuation pinned in an inner one pins a yield to the outer scope.
func TestPinnedThroughInner(t *testing.T) {
	outerScope, innerScope := continuation.NewScope("outer"), continuation.NewScope("inner")
	forEngines(t, func(t *testing.T, e engine) {
		var reason continuation.PinnedReason
		var ok bool
		e.run(func() {
			outer := continuation.New(outerScope, func() {
				inner := continuation.New(innerScope, func() {
					continuation.Pin()
					ok = continuation.Yield(outerScope)
					continuation.Unpin()
				}, e.opts...)
				inner.Run()
			}, e.opts...)
			outer.OnPinned(func(r continuation.PinnedReason) { reason = r })
			outer.Run()
		})
		assert.False(t, ok)
		assert.Equal(t, continuation.CriticalSection, reason)
	})
}

func TestPinnedForeignGoroutine(t *testing.T) {
	// Goroutine engine only: the body must wait for the other goroutine,
	// which parks, fatal inside a Region.
	var reason atomic.Value
	var ok atomic.Bool
	c := continuation.New(foo, func() {
		done := make(chan bool)
		go func() {
			ok.Store(continuation.Yield(foo)) // not this goroutine's continuation
			close(done)
		}()
		<-done
	})
	c.OnPinned(func(r continuation.PinnedReason) { reason.Store(r) })
	c.Run()
	assert.False(t, ok.Load())
	assert.Equal(t, continuation.ForeignGoroutine, reason.Load())
	assert.True(t, c.IsDone())
}

func TestPinnedLockedThread(t *testing.T) {
	t.Run("goroutine", func(t *testing.T) {
		// The runtime's coroutine switch demands the thread-lock state the
		// coroutine started with: the engine cannot carry LockOSThread.
		var reason continuation.PinnedReason
		var ok bool
		c := continuation.New(foo, func() {
			runtime.LockOSThread()
			ok = continuation.Yield(foo)
			runtime.UnlockOSThread()
		})
		c.OnPinned(func(r continuation.PinnedReason) { reason = r })
		c.Run()
		assert.False(t, ok)
		assert.Equal(t, continuation.LockedThread, reason)
	})
	t.Run("raw", func(t *testing.T) {
		// Raw continuations share the goroutine and its thread: not pinned.
		var ok, pinned bool
		coro.Region(func() {
			c := continuation.New(foo, func() {
				runtime.LockOSThread()
				ok = continuation.Yield(foo)
				runtime.UnlockOSThread()
			}, coro.WithEngine(coro.Raw))
			c.OnPinned(func(continuation.PinnedReason) { pinned = true })
			c.Run()
			c.Run()
		})
		assert.True(t, ok)
		assert.False(t, pinned)
	})
}

func TestPinnedDefaultHandlerPanics(t *testing.T) {
	c := continuation.New(foo, func() {
		continuation.Pin()
		defer continuation.Unpin()
		continuation.Yield(foo)
	})
	assert.PanicsWithValue(t, "continuation: Yield to scope FOO is pinned: critical section", c.Run)
}

func TestMisuse(t *testing.T) {
	assert.PanicsWithValue(t, "continuation: no continuation of scope FOO is mounted", func() { continuation.Yield(foo) })
	assert.PanicsWithValue(t, "continuation: Pin outside a mounted continuation", continuation.Pin)

	c := continuation.New(foo, func() {})
	c.Run()
	assert.PanicsWithValue(t, "continuation: Run of a done continuation of scope FOO", c.Run)

	var self *continuation.Continuation
	self = continuation.New(foo, func() { self.Run() })
	assert.PanicsWithValue(t, "continuation: Run of a continuation of scope FOO that is already mounted", self.Run)
}

// Basic.testException1: a panic after a yield comes out of Run with the
// original value, and the continuation is done (Goroutine engine: a panic
// inside a Region is fatal).
func TestPanicPropagates(t *testing.T) {
	loom := errors.New("Loom exception!")
	for _, yieldFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("yield first %v", yieldFirst), func(t *testing.T) {
			c := continuation.New(foo, func() {
				if yieldFirst {
					continuation.Yield(foo)
				}
				panic(loom)
			})
			if yieldFirst {
				c.Run()
			}
			func() {
				defer func() { assert.Equal(t, loom, recover()) }()
				c.Run()
			}()
			assert.True(t, c.IsDone())
			assert.Nil(t, continuation.Current(foo), "unmounted")
		})
	}
}

func TestCloseRunsDefers(t *testing.T) {
	var order []string
	c := continuation.New(foo, func() {
		defer func() { order = append(order, "outer") }()
		func() {
			defer func() { order = append(order, "inner") }()
			continuation.Yield(foo)
		}()
	})
	c.Run()
	require.NoError(t, c.Close())
	assert.Equal(t, []string{"inner", "outer"}, order)
	assert.True(t, c.IsDone())
}

func TestCloseWithSuspendedInner(t *testing.T) {
	outerScope, innerScope := continuation.NewScope("outer"), continuation.NewScope("inner")
	forEngines(t, func(t *testing.T, e engine) {
		var inner *continuation.Continuation
		var err error
		var done []bool
		e.run(func() { // a Raw leftover would make coro.Region panic
			outer := continuation.New(outerScope, func() {
				inner = continuation.New(innerScope, func() { continuation.Yield(outerScope) }, e.opts...)
				inner.Run()
			}, e.opts...)
			outer.Run() // suspended, with inner suspended inside it
			err = outer.Close()
			done = append(done, outer.IsDone(), inner.IsDone())
		})
		assert.NoError(t, err)
		assert.Equal(t, []bool{true, true}, done)
		assert.NoError(t, inner.Close(), "closing it again is harmless")
	})
}

func TestUnreachableIsCleanedUp(t *testing.T) {
	const body = "continuation_test.TestUnreachableIsCleanedUp." // its closures
	conts := make([]*continuation.Continuation, 50)
	for i := range conts {
		conts[i] = continuation.New(foo, func() { continuation.Yield(foo) })
		conts[i].Run() // suspended
	}
	// Counted while they are reachable: a collection that finds them
	// unreachable may close them at any time after.
	require.Equal(t, 50, testproc.Goroutines(body), "each body on a goroutine of its own, suspended")
	runtime.KeepAlive(conts) // and forgotten from here on
	assert.Zero(t, testproc.WaitGone(body), "forgotten continuations' goroutines exit")
}

// Three levels, yielding to each of them from the innermost, many times:
// a yield to an outer scope suspends every stack in between with one
// switch on the Raw engine, and the outer's next Run mounts them again.
func TestChainYields(t *testing.T) {
	a, b, c := continuation.NewScope("A"), continuation.NewScope("B"), continuation.NewScope("C")
	forEngines(t, func(t *testing.T, e engine) {
		var log []string
		e.run(func() {
			var ca, cb, cc *continuation.Continuation
			ca = continuation.New(a, func() {
				cb = continuation.New(b, func() {
					cc = continuation.New(c, func() {
						for i := 0; i < 3; i++ {
							local := fmt.Sprint("c", i) // must survive every kind of yield
							continuation.Yield(c)
							continuation.Yield(b)
							continuation.Yield(a)
							log = append(log, local)
						}
					}, e.opts...)
					for !cc.IsDone() {
						cc.Run()
						log = append(log, "b")
						continuation.Yield(b) // b's own yield, with c suspended normally
					}
				}, e.opts...)
				for !cb.IsDone() {
					cb.Run()
					log = append(log, "a")
				}
			}, e.opts...)
			for i := 0; !ca.IsDone(); i++ {
				ca.Run()
				log = append(log, "main")
				require.Less(t, i, 100)
			}
			assert.True(t, cb.IsDone())
			assert.True(t, cc.IsDone())
		})
		// Each C iteration: c yields to C (b's Run returns: "b", then b
		// yields to B: "a"), to B ("a"), to A ("main"), then logs.
		var want []string
		for i := 0; i < 3; i++ {
			want = append(want, "b", "a", "a", "main", fmt.Sprint("c", i))
		}
		want = append(want, "b", "a", "a", "main") // c done; b yields once more, then ends
		assert.Equal(t, want, log)
	})
}

// A Raw continuation runs inside a Region, where the goroutine of a
// Goroutine-engine continuation around it cannot be suspended: a yield
// through the Region to that scope is a fatal error naming it, never a
// silent return into the wrong body.
func TestYieldThroughRegionIsFatal(t *testing.T) {
	if testproc.IsChild(t) {
		outer := continuation.NewScope("outer")
		c := continuation.New(outer, func() {
			coro.Region(func() {
				inner := continuation.New(continuation.NewScope("inner"), func() {
					continuation.Yield(outer)
				}, coro.WithEngine(coro.Raw))
				inner.Run()
			})
		})
		c.Run()
		t.Fatal("survived")
	}
	r := testproc.Run(t)
	require.Error(t, r.Err, r.Output)
	assert.Contains(t, r.Output, "fatal error: continuation: Yield to scope outer from a Raw continuation, through a Region")
}

// An outermost Run on the Goroutine engine resumes the body straight from
// the caller, and whoever suspends or ends it unmounts it: after each Run,
// nothing is mounted on the caller, whether the body yielded, returned or
// panicked, and Run of a mounted continuation is still caught.
func TestOutermostRunUnmounts(t *testing.T) {
	forEngines(t, func(t *testing.T, e engine) {
		e.run(func() {
			c := continuation.New(foo, func() {
				for i := 0; i < 3; i++ {
					assert.NotNil(t, continuation.Current(foo))
					continuation.Yield(foo)
				}
			}, e.opts...)
			for !c.IsDone() {
				c.Run()
				assert.Nil(t, continuation.Current(foo), "unmounted after Run")
			}
		})
	})
	var self *continuation.Continuation
	self = continuation.New(foo, func() {
		assert.PanicsWithValue(t, "continuation: Run of a continuation of scope FOO that is already mounted", self.Run)
	})
	self.Run()
	assert.True(t, self.IsDone())
	assert.PanicsWithValue(t, "continuation: no continuation of scope FOO is mounted", func() { continuation.Yield(foo) })
}
