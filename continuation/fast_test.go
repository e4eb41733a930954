package continuation

// White-box tests of the fast paths (fast.go): the states they leave, and
// the Go paths that link a continuation they mounted into the chain.

import (
	"fmt"
	"io"
	"runtime"
	"runtime/trace"
	"strings"
	"testing"
	"unsafe"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/gabi"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fastScope = NewScope("fast")

// carrierHere is the goroutine's carrier as it is, not settled.
func carrierHere() *carrier { return findCarrier(gabi.G()) }

// intoTable puts car in its table slot, where the fast paths look, and
// moves the carrier that held the slot, if any, to the overflow map. A test
// that counts the fast paths' hits calls it first: whether a carrier lands
// in the table depends on where the runtime's g records hash and on which
// carriers earlier tests left there.
func intoTable(car *carrier) {
	outOfOverflow(car)
	if old := slot(car.g).Swap(car); old != nil && old != car && old.g != car.g {
		old.overflow()
	}
}

// intoOverflow moves car to the overflow map, where the table way of
// Yield's fast path gives up, as a slot collision would have put it.
func intoOverflow(car *carrier) {
	slot(car.g).CompareAndSwap(car, nil)
	car.overflow()
}

// outOfOverflow undoes intoOverflow once car's goroutine no longer needs it.
func outOfOverflow(car *carrier) {
	lockOverflow()
	delete(overflow.m, car.g)
	overflowUsed.Store(len(overflow.m) > 0)
	unlockOverflow()
}

func TestFastPathsMountLazily(t *testing.T) {
	intoTable(carrierFor(gabi.G())) // where Run's fast path looks
	type seen struct {
		fast       uintptr
		lazy, self bool // car.lazy is k; car.cur is k
		current    bool // Current found it
		closeErr   error
	}
	type returned struct { // what each Run left
		lazy uintptr
		cur  *cont
		fast uintptr
	}
	var log []seen
	var after []returned
	var c *Continuation
	look := func(settle bool) {
		k, car := c.cont, carrierHere()
		s := seen{fast: k.fast, lazy: car.lazy == uintptr(unsafe.Pointer(k)), self: car.cur == k}
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
		for !c.IsDone() {
			c.Run()
			car := carrierHere()
			after = append(after, returned{lazy: car.lazy, cur: car.cur, fast: c.fast})
		}
	})
	// No check fails inside the Region: FailNow there ends the process.
	for i, r := range after {
		assert.Zero(t, r.lazy, "Run %d returned with a continuation mounted the fast way", i)
		assert.Nil(t, r.cur, "Run %d returned with a continuation mounted", i)
		want := uintptr(fastSuspended)
		if i == len(after)-1 {
			want = slowOnly // done
		}
		assert.Equal(t, want, r.fast, "after Run %d", i)
	}
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
	intoTable(carrierFor(gabi.G())) // where Run's fast path looks
	inner := NewScope("inner")
	var parents []bool
	var outerFast, innerFast []uintptr
	var closeErrs []error
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
		closeErrs = []error{o.Close(), j.Close()}
	})
	assert.Equal(t, []error{nil, nil}, closeErrs)
	assert.Equal(t, []bool{true, true, true, true, true, true, true, true, true}, parents)
	// The first inner Run links o in; o stays linked until it yields. Then
	// the inner one is mounted the fast way, until o's next Run.
	assert.Equal(t, []uintptr{0, 0, 0, 0, 0, 0, 0, 0, 0}, outerFast)
	assert.Equal(t, []uintptr{0, 2, 2, 0, 2, 2, 0, 2, 2}, innerFast)
}

// A continuation left suspended when its Region ended cannot be mounted
// the fast way outside a region: Run reports it done and mounts nothing.
func TestRunAfterRegionEnded(t *testing.T) {
	intoTable(carrierFor(gabi.G())) // where Run's fast path looks
	var c *Continuation
	var fast uintptr
	require.PanicsWithValue(t, "coro: Region ended with 1 Raw coroutine(s) still suspended: they were discarded without running their deferred calls", func() {
		coro.Region(func() {
			c = New(fastScope, func() {
				for {
					Yield(fastScope)
				}
			}, coro.WithEngine(coro.Raw))
			c.Run()
			c.Run()
			fast = c.fast
		})
	})
	require.Equal(t, uintptr(fastSuspended), fast, "before the Region ended")
	assert.PanicsWithValue(t, "continuation: Run of a done continuation of scope fast", c.Run)
	car := carrierHere()
	require.NotNil(t, car)
	assert.Zero(t, car.lazy)
	assert.Nil(t, car.cur)
}

// The Goroutine engine's fast paths: an outermost continuation that yields
// to its own scope is run and yielded the fast way from its second Run on,
// leaving the caller's carrier alone, from whichever goroutine runs it.
func TestGoroutineFastPaths(t *testing.T) {
	type seen struct {
		fast          uintptr
		current       bool // Current found it
		callerCarNil  bool // the caller's carrier has nothing mounted
		closeRejected bool
	}
	var log []seen
	var c *Continuation
	var callerCar *carrier
	look := func() {
		log = append(log, seen{
			fast:          c.fast,
			current:       Current(fastScope) == c,
			callerCarNil:  callerCar.cur == nil,
			closeRejected: c.Close() != nil,
		})
	}
	c = New(fastScope, func() {
		for i := 0; i < 4; i++ {
			look()
			Yield(fastScope)
		}
		look()
	})
	for i := 0; i < 3; i++ {
		callerCar = carrierFor(gabi.G())
		c.Run()
		require.Equal(t, uintptr(goSuspended), c.fast, "after Run %d", i)
		require.Equal(t, uintptr(unsafe.Pointer(c)), c.user, "after Run %d: set once, by New", i)
	}
	// Another goroutine may run it next (one at a time): its first Run
	// there takes the slow way, its second the fast one.
	testproc.OnNewGoroutine(func() {
		callerCar = carrierFor(gabi.G())
		c.Run()
		c.Run()
	})
	require.True(t, c.IsDone())
	assert.Equal(t, uintptr(slowOnly), c.fast)
	assert.False(t, c.isMounted())

	want := []uintptr{slowOnly, goMounted, goMounted, slowOnly, goMounted}
	require.Len(t, log, len(want))
	for i, s := range log {
		assert.Equal(t, want[i], s.fast, "look %d", i)
		assert.True(t, s.current, "look %d: Current", i)
		assert.True(t, s.closeRejected, "look %d: Close of a mounted continuation", i)
		if s.fast == goMounted {
			assert.True(t, s.callerCarNil, "look %d: the fast way mounted it on the caller's carrier", i)
		}
	}
}

// On the Goroutine engine the fast paths hand over in ctx's assembly,
// through its entries for handoff points: the coroutine's Handoff leaves
// no switch to the runtime.
func TestGoroutineFastPathsHandOffInAssembly(t *testing.T) {
	if on, why := ctx.HandoffStatus(); !on {
		t.Skip("the assembly handoff is off: " + why)
	}
	const n = 1000
	var fast int
	c := New(fastScope, func() {
		for i := 0; i < n; i++ {
			if c := Current(fastScope); c != nil && c.fast == goMounted {
				fast++
			}
			Yield(fastScope)
		}
	})
	c.Run() // the first Run and Yield take the slow way
	h := c.to.Handoff()
	require.NotNil(t, h, "Run's context is a resume point")
	require.Same(t, h, c.cont.parentC.Handoff(), "Yield's is the same Handoff's yield point")
	before := h.Fallbacks()
	for !c.IsDone() {
		c.Run()
	}
	assert.Equal(t, n-1, fast, "Runs that took the fast way")
	assert.Equal(t, before, h.Fallbacks(), "switches left to the runtime")
}

// logFast returns a continuation of scope that yields for ever, and
// appends to *log where it stands with the fast paths (cont.fast) each time
// it runs.
func logFast(scope *Scope, log *[]uintptr) *Continuation {
	var j *Continuation
	j = New(scope, func() {
		for {
			*log = append(*log, j.fast)
			Yield(scope)
		}
	})
	return j
}

// A continuation run inside another one is not outermost: Run takes the
// slow way even after it yielded the fast way as an outermost one.
func TestGoroutineFastPathsNotNested(t *testing.T) {
	inner := NewScope("inner")
	var fast []uintptr
	j := logFast(inner, &fast)
	j.Run()
	j.Run() // outermost: the fast way
	o := New(fastScope, func() {
		j.Run() // inside o: the slow way
		j.Run()
	})
	o.Run()
	j.Run() // outermost again: the slow way once, as it yielded inside o
	j.Run()
	require.True(t, o.IsDone())
	require.NoError(t, j.Close())
	assert.Equal(t, []uintptr{slowOnly, goMounted, slowOnly, slowOnly, slowOnly, goMounted}, fast)
}

// The fast paths know a goroutine by its id: a new goroutine on the g
// record of one that ran k as its outermost continuation, and exited, is
// another goroutine, and its first Run takes the slow way.
func TestGoroutineFastPathsOnAReusedG(t *testing.T) {
	var fast []uintptr
	j := logFast(fastScope, &fast)
	defer j.Close()
	run := func() (g uintptr) {
		testproc.OnNewGoroutine(func() {
			g = uintptr(gabi.G())
			j.Run()
			j.Run()
		})
		return g
	}
	// An exited goroutine's g goes to its P's free list, which the next
	// goroutine made there takes first: on one P, tries until a goroutine
	// lands on the g of the one before it.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	prev := run()
	for try := 0; ; try++ {
		require.Less(t, try, 1000, "no goroutine got the g record of the one before it")
		fast = fast[:0]
		g := run()
		if g == prev {
			break
		}
		prev = g
	}
	assert.Equal(t, []uintptr{slowOnly, goMounted}, fast, "the second goroutine on the g record")
}

// Run's fast path on the Goroutine engine does not look at the caller's
// carrier: on the goroutine that last ran k as outermost, only a Raw
// continuation can be mounted while code runs, inside a Region, where
// Resume's hook throws before k runs. Each case ends the child process
// with that error, not with k's body running on a pinned goroutine.
func TestGoroutineFastPathInRegion(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(k *Continuation)
	}{
		{"in a region", func(k *Continuation) { coro.Region(k.Run) }},
		{"in a raw continuation", func(k *Continuation) {
			coro.Region(func() {
				New(NewScope("raw"), k.Run, coro.WithEngine(coro.Raw)).Run()
			})
		}},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			if testproc.IsChild(t) {
				k := New(fastScope, func() {
					for {
						Yield(fastScope)
					}
				})
				k.Run()
				k.Run()
				require.Equal(t, uintptr(goSuspended), k.fast, "the next Run takes the fast way")
				tc.run(k)
				fmt.Println("survived")
				return
			}
			r := testproc.Run(t)
			require.Error(t, r.Err, "the child survived:\n%s", r.Output)
			assert.Contains(t, r.Output, "fatal error: coro: Resume of a Goroutine-engine coroutine inside a Region")
			assert.NotContains(t, r.Output, "survived")
		})
	}
}

// A panic in a body run the fast way comes out of Run, and leaves the
// continuation done and unmounted.
func TestGoroutineFastPathPanics(t *testing.T) {
	c := New(fastScope, func() {
		Yield(fastScope)
		Yield(fastScope)
		panic("boom")
	})
	c.Run()
	c.Run()
	require.Equal(t, uintptr(goSuspended), c.fast)
	assert.PanicsWithValue(t, "boom", c.Run)
	assert.True(t, c.IsDone())
	assert.False(t, c.isMounted())
	assert.Equal(t, uintptr(slowOnly), c.fast)
	assert.Nil(t, carrierFor(gabi.G()).cur)
}

// Two continuations of one scope, run in turn, both keep to the fast
// paths: Yield finds its continuation through its own goroutine's carrier,
// not through whichever the scope mounted last. Only each one's first
// Yield, after its first Run (always the hook's), takes the hook.
func TestFastPathsTwoOfOneScope(t *testing.T) {
	for _, engine := range []coro.Engine{coro.Goroutine, coro.Raw} {
		t.Run(engine.String(), func(t *testing.T) {
			scope := NewScope("two")
			start := func() *Continuation {
				k := New(scope, func() {
					for {
						Yield(scope)
					}
				}, coro.WithEngine(engine))
				k.Run()
				return k
			}
			run := func(f func()) { f() }
			if engine == coro.Raw {
				run = coro.Region
			}
			var started, hooked int64
			var errs []error
			run(func() { // nothing in here may fail the test: FailNow inside a Region ends the process
				a, b := start(), start()
				// The Goroutine engine runs each body on a goroutine of its
				// own; two whose carriers share a slot (one time in 4096)
				// cannot both be in the table: start another.
				var spares []*Continuation
				for engine == coro.Goroutine && slot(b.cont.car.g) == slot(a.cont.car.g) {
					spares = append(spares, b)
					b = start()
				}
				intoTable(a.cont.car)
				intoTable(b.cont.car)
				started = scope.slow.Load() - int64(len(spares))
				for i := 0; i < 1000; i++ {
					a.Run()
					b.Run()
				}
				hooked = scope.slow.Load() - int64(len(spares)) - started
				for _, k := range append(spares, a, b) {
					errs = append(errs, k.Close())
				}
			})
			assert.Equal(t, int64(2), started, "first yields, which take the hook")
			assert.Zero(t, hooked, "yields that took the hook afterwards")
			for _, err := range errs {
				assert.NoError(t, err)
			}
		})
	}
}

// Yield's fast path looks at the scope's last continuation first, through
// that continuation's own carrier, and only then at the calling goroutine's
// carrier in the table; inside a region (Raw) it goes the table way at
// once. A carrier moved to the overflow map (as a slot collision would put
// it) shows which way each Yield went: the table way gives up on it and
// takes the hook.
func TestYieldTriesTheScopesLastFirst(t *testing.T) {
	for _, engine := range []coro.Engine{coro.Goroutine, coro.Raw} {
		t.Run(engine.String(), func(t *testing.T) {
			run := func(f func()) { f() }
			firstWay := int64(0) // hooks in a's 100 rounds as scope.last: none, if each went the first way
			if engine == coro.Raw {
				run = coro.Region
				firstWay = 100 // each went the table way, which gave up
			}
			var hooks []int64
			run(func() { hooks = yieldTriesTheScopesLastFirst(engine) })
			assert.Equal(t, []int64{1, firstWay, 1, 100}, hooks,
				"hooks taken: a's first round; a's 100 as scope.last; b's first; a's 100 with b last, where the table way cannot find a's carrier")
		})
	}
}

// yieldTriesTheScopesLastFirst returns the hooks taken in each step. It
// fails no test itself: on the Raw engine it runs inside a Region.
func yieldTriesTheScopesLastFirst(engine coro.Engine) (hooks []int64) {
	scope := NewScope("last")
	count := func() {
		n := scope.slow.Load()
		for _, h := range hooks {
			n -= h
		}
		hooks = append(hooks, n)
	}
	body := func() {
		for {
			Yield(scope)
		}
	}
	a := New(scope, body, coro.WithEngine(engine))
	a.Run() // slow: mounts a, makes it scope.last; its body's first Yield takes the hook
	count()
	car := a.cont.car // the carrier a's code runs on, set by then
	intoOverflow(car)
	defer outOfOverflow(car)
	for i := 0; i < 100; i++ {
		a.Run()
	}
	count()
	b := New(scope, body, coro.WithEngine(engine))
	b.Run() // slow: b is scope.last from here on; its first Yield takes the hook
	count()
	for i := 0; i < 100; i++ {
		a.Run()
	}
	count()
	if a.Close() != nil || b.Close() != nil {
		hooks = append(hooks, -1) // a Close that failed
	}
	return hooks
}

// Scope.lastTo is the last continuation's parentC once its body has
// started, and Yield's fast path uses it only when it equals k.parentC: a
// stale or foreign copy changes nothing but the speed.
func TestScopeLastTo(t *testing.T) {
	scope := NewScope("lastTo")
	n := 0
	a := New(scope, func() {
		for {
			n++
			Yield(scope)
		}
	})
	a.Run()
	intoTable(a.cont.car) // where the table way finds it, once lastTo no longer leads to it
	assert.Equal(t, uintptr(unsafe.Pointer(a.cont.parentC)), scope.lastTo.Load(), "set when the body started")
	for i := 0; i < 10; i++ {
		a.Run()
	}
	var other ctx.Context
	scope.lastTo.Store(uintptr(unsafe.Pointer(&other))) // a context no Yield should switch to
	for i := 0; i < 100; i++ {
		a.Run()
	}
	assert.Equal(t, 111, n)
	assert.Equal(t, int64(1), scope.slow.Load(), "only the first Yield took the hook")

	b := New(scope, func() { Yield(scope) })
	b.Run()
	assert.Equal(t, uintptr(unsafe.Pointer(b.cont.parentC)), scope.lastTo.Load(), "the new last continuation's")
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
}

// Yield's result comes back in a register on every way a continuation is
// resumed: the switch, the handoff's landing pads and a hook run in the
// switch's place (a refused handoff, the runtime's switch) must each leave
// exactly true (the byte 1, not just nonzero), and a pinned Yield false.
func TestYieldResult(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []coro.Option
		run  func(f func())
	}{
		{"Raw", []coro.Option{coro.WithEngine(coro.Raw)}, coro.Region},
		{"Goroutine", nil, func(f func()) { f() }},
		{"Goroutine/runtime switch", []coro.Option{coro.WithRuntimeSwitch()}, func(f func()) { f() }},
		{"Goroutine/tracer on", nil, func(f func()) {
			require.NoError(t, trace.Start(io.Discard))
			defer trace.Stop()
			f()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scope, inner := NewScope("result"), NewScope("result-inner")
			var got []byte
			var pinned []PinnedReason
			record := func(ok bool) { got = append(got, *(*byte)(unsafe.Pointer(&ok))) }
			tc.run(func() {
				k := New(scope, func() {
					for i := 0; i < 4; i++ { // the first after the hook's Run, then fast
						record(Yield(scope))
					}
					New(inner, func() { // the slow way, through an inner continuation
						record(Yield(scope))
					}, tc.opts...).Run()
					Pin()
					record(Yield(scope)) // pinned: OnPinned, and false
					Unpin()
				}, tc.opts...)
				k.OnPinned(func(r PinnedReason) { pinned = append(pinned, r) })
				for !k.IsDone() {
					k.Run()
				}
			})
			assert.Equal(t, []byte{1, 1, 1, 1, 1, 0}, got)
			assert.Equal(t, []PinnedReason{CriticalSection}, pinned)
		})
	}
}
