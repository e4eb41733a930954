package ctx_test

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/gabi"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/corokit/corokit/stackalloc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pair is a parent context and a child context on its own stack.
type pair struct {
	parent, child ctx.Context
	stack         stackalloc.Stack
}

func newPair(t testing.TB, entry func(p *pair)) *pair {
	s, err := stackalloc.Default.Alloc(64 << 10)
	require.NoError(t, err)
	p := &pair{stack: s}
	p.child.Link = &p.parent
	ctx.Init(&p.child, s, func() { entry(p) })
	t.Cleanup(func() { stackalloc.Default.Free(s) })
	return p
}

func (p *pair) resume() { ctx.Switch(&p.parent, &p.child) }
func (p *pair) yield()  { ctx.Switch(&p.child, &p.parent) }

func TestPingPong(t *testing.T) {
	var in, out int
	p := newPair(t, func(p *pair) {
		for {
			out = in * 2 // computed on the child stack
			p.yield()
		}
	})
	ctx.Region(func() {
		for i := 1; i <= 1000; i++ {
			in = i
			p.resume()
			if out != 2*i {
				t.Errorf("round trip %d: got %d", i, out) // Errorf does not unwind
				return
			}
		}
	})
}

func TestTenMillionRoundTrips(t *testing.T) {
	const n = 10_000_000
	count := 0
	p := newPair(t, func(p *pair) {
		for {
			count++
			p.yield()
		}
	})
	// One region per 100,000 round trips: regions hold up the GC.
	for r := 0; r < n/100_000; r++ {
		ctx.Region(func() {
			for i := 0; i < 100_000; i++ {
				p.resume()
			}
		})
	}
	assert.Equal(t, n, count)
}

func TestRunsOnItsOwnStack(t *testing.T) {
	var lo, hi, sp, glo, ghi uintptr
	p := newPair(t, func(p *pair) {
		g := gabi.G()
		sp, glo, ghi = gabi.SP(), *gabi.StackLo(g), *gabi.StackHi(g)
	})
	var before, after uintptr
	ctx.Region(func() {
		before = *gabi.StackLo(gabi.G())
		p.resume()
		after = *gabi.StackLo(gabi.G())
	})
	assert.Equal(t, before, after, "the parent's g.stack is back")
	lo, hi = p.stack.Lo, p.stack.Hi
	assert.True(t, lo < sp && sp < hi, "entry ran on the context's stack")
	assert.Equal(t, lo, glo, "g.stack.lo described the context's stack while it ran")
	assert.Equal(t, hi, ghi)
}

func TestEntryReturnsToLink(t *testing.T) {
	steps := []string{}
	p := newPair(t, func(p *pair) {
		steps = append(steps, "entry")
		p.yield()
		steps = append(steps, "entry again")
		// returning switches to p.child.Link
	})
	ctx.Region(func() {
		p.resume()
		steps = append(steps, "parent")
		p.resume()
		steps = append(steps, "parent after return")
	})
	assert.Equal(t, []string{"entry", "parent", "entry again", "parent after return"}, steps)
}

// fpWalk follows the frame-pointer chain from fp, as frame-pointer
// unwinders (the execution tracer, profilers) do, and returns the PCs.
func fpWalk(fp uintptr) []uintptr {
	var pcs []uintptr
	for fp != 0 && len(pcs) < 100 {
		pcs = append(pcs, *(*uintptr)(ptr(fp + 8)))
		fp = *(*uintptr)(ptr(fp))
	}
	return pcs
}

func ptr(a uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&a)) }

// stackView is one stack as two unwinders see it.
type stackView struct {
	fp    []uintptr // return PCs along the frame-pointer chain
	pcs   []uintptr // runtime.Callers, inlined frames included
	names []string
}

// view records the caller's stack both ways. It must not fail: it may run
// inside a region, where a failing test's Goexit is fatal.
//
//go:noinline
func view() stackView {
	var v stackView
	v.fp = fpWalk(gabi.FP())
	pcs := make([]uintptr, 100)
	v.pcs = pcs[:runtime.Callers(2, pcs)]
	f := runtime.CallersFrames(v.pcs)
	for {
		fr, more := f.Next()
		v.names = append(v.names, fr.Function)
		if !more {
			return v
		}
	}
}

// check compares the two unwinders below the top frame (the trampoline or
// goexit). No function on these paths is inlined, so each PC from Callers
// is one physical frame, as in the frame-pointer chain.
func (v stackView) check(t *testing.T) {
	n := len(v.pcs) - 1
	require.Greater(t, len(v.fp), n, "names: %v", v.names)
	assert.Equal(t, v.pcs[:n], v.fp[:n], "frame-pointer chain and runtime unwinder disagree: %v", v.names)
}

//go:noinline
func deeper(n int, yield func()) stackView {
	if n == 0 {
		yield()
		return view()
	}
	return deeper(n-1, yield)
}

func TestFramePointersAndCallers(t *testing.T) {
	var inside stackView
	p := newPair(t, func(p *pair) {
		inside = deeper(5, p.yield)
	})
	var parent stackView
	var suspended []string
	ctx.Region(func() {
		p.resume() // the child yields from depth 5
		parent = view()
		f := runtime.CallersFrames(p.child.CallerPCs(100)) // its stack, read from outside
		for more := true; more; {
			var fr runtime.Frame
			fr, more = f.Next()
			suspended = append(suspended, fr.Function)
		}
		p.resume() // it walks its stack after being resumed
	})
	assert.Equal(t, 6, strings.Count(strings.Join(suspended, " "), "ctx_test.deeper"), suspended)
	assert.Equal(t, "github.com/corokit/corokit/ctx.trampoline", suspended[len(suspended)-1], suspended)
	inside.check(t)
	parent.check(t)
	// The whole chain, trampoline included, then the zero return PC that
	// Init wrote: frame-pointer unwinders stop cleanly at the trampoline.
	assert.Equal(t, append(inside.pcs, 0), inside.fp)
	names := inside.names
	assert.Equal(t, "github.com/corokit/corokit/ctx.trampoline", names[len(names)-1], "Callers stops at the trampoline: %v", names)
	assert.Equal(t, 6, strings.Count(strings.Join(names, " "), "ctx_test.deeper"), names)
	assert.Equal(t, "runtime.goexit", parent.names[len(parent.names)-1], "the parent's chain is intact: %v", parent.names)
}

func TestFloatsSurviveSwitches(t *testing.T) {
	var x float64
	p := newPair(t, func(p *pair) {
		for y := 1.5; ; y *= 2 {
			x = y
			p.yield()
		}
	})
	acc := 0.25
	ctx.Region(func() {
		for i := 0; i < 10; i++ {
			p.resume()
			acc += x
		}
	})
	assert.Equal(t, 0.25+1.5*1023, acc)
}

func TestDeferChainsStayWithTheirStack(t *testing.T) {
	var order []string
	p := newPair(t, func(p *pair) {
		func() {
			for i := 0; i < 2; i++ { // loop defers make records on g._defer
				defer func() { order = append(order, "child defer") }()
			}
			p.yield()
			order = append(order, "child resumed")
		}()
		order = append(order, "child returned")
	})
	ctx.Region(func() {
		func() {
			for i := 0; i < 1; i++ {
				defer func() { order = append(order, "parent defer") }()
			}
			p.resume() // child suspended with two defer records
			order = append(order, "parent between")
		}() // only the parent's own defer runs here
		p.resume()
	})
	assert.Equal(t, []string{"parent between", "parent defer", "child resumed", "child defer", "child defer", "child returned"}, order)
}

func TestHookRunsInsteadOfSwitching(t *testing.T) {
	var from, hook ctx.Context
	calls := 0
	hook.SetHook(func() { calls++ })
	ctx.Switch(&from, &hook) // no region needed: nothing switches
	ctx.Switch(&from, &hook)
	assert.Equal(t, 2, calls)
	assert.False(t, from.Suspended(), "from is not saved by a hook call")

	// A hook may stand for a finished context inside a region, too.
	p := newPair(t, func(p *pair) {})
	ctx.Region(func() {
		p.resume()
		p.child.SetHook(func() { calls += 10 })
		p.resume()
	})
	assert.Equal(t, 12, calls)
}

func TestSuspended(t *testing.T) {
	var states []bool
	p := newPair(t, func(p *pair) {
		states = append(states, p.child.Suspended(), p.parent.Suspended())
		p.yield()
	})
	states = append(states, p.child.Suspended())
	ctx.Region(func() {
		p.resume()
		states = append(states, p.child.Suspended(), p.parent.Suspended())
		p.resume() // returns: finished
	})
	states = append(states, p.child.Suspended())
	assert.Equal(t, []bool{true, false, true, true, false, false}, states)
}

func TestRegionNestsAndUnpins(t *testing.T) {
	assert.False(t, ctx.InRegion())
	var seen []bool
	ctx.Region(func() {
		seen = append(seen, ctx.InRegion())
		ctx.Region(func() { seen = append(seen, ctx.InRegion()) })
		seen = append(seen, ctx.InRegion())
	})
	assert.Equal(t, []bool{true, true, true}, seen)
	assert.False(t, ctx.InRegion())
	runtime.GC() // would be "schedule: holding locks" if still pinned
}

// Goroutines entering regions at once: each new goroutine's stack is too
// small for RegionStackBudget, so each grows it on the way in. Run under
// -race: growing once wrote a package variable (issue 14).
func TestRegionsOnManyGoroutines(t *testing.T) {
	const n = 64
	headroom := make([]uintptr, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			ctx.Region(func() { headroom[i] = gabi.SP() - *gabi.StackLo(gabi.G()) })
		})
	}
	close(start)
	wg.Wait()
	for i, h := range headroom {
		assert.GreaterOrEqual(t, h, uintptr(ctx.RegionStackBudget), "goroutine %d", i)
	}
}

func TestInitRejectsBadInput(t *testing.T) {
	var c ctx.Context
	assert.PanicsWithValue(t, "ctx: Init with a nil entry function", func() { ctx.Init(&c, stackalloc.Stack{}, nil) })
	assert.PanicsWithValue(t, "ctx: Init with a 0-byte stack; want at least 4096 (ctx.MinStack)", func() { ctx.Init(&c, stackalloc.Stack{}, func() {}) })
}

// Switch's variants for handoff points call the hook of any other hook
// context, a point of the other kind included, as Switch does.
func TestSwitchToPointOfAnotherKind(t *testing.T) {
	var from, hook ctx.Context
	calls := 0
	hook.SetHook(func() { calls++ })
	ctx.SwitchToResumePoint(&from, &hook)
	ctx.SwitchToYieldPoint(&from, &hook)
	assert.Equal(t, 2, calls, "a hook context that is no point")

	var h ctx.Handoff
	h.Init(unsafe.Pointer(new([8]uintptr)), func() {}, func() {})
	var resume, yield ctx.Context
	resume.SetHook(func() { calls += 10 })
	yield.SetHook(func() { calls += 100 })
	resume.SetResumePoint(&h)
	yield.SetYieldPoint(&h)
	ctx.SwitchToYieldPoint(&from, &resume)
	ctx.SwitchToResumePoint(&from, &yield)
	assert.Equal(t, 112, calls, "a point of the other kind")
	assert.Equal(t, uintptr(2), h.Fallbacks(), "both count as left to the hook")
	assert.Same(t, &h, resume.Handoff())
	assert.Same(t, &h, yield.Handoff())
	assert.Nil(t, hook.Handoff())
}

// Fatal errors, each in a child process.
func TestFatal(t *testing.T) {
	cases := []struct {
		name, want string
		run        func(t *testing.T)
	}{
		{"switch outside region", "fatal error: ctx: Switch outside a pinned region", func(t *testing.T) {
			p := newPair(t, func(p *pair) {})
			p.resume()
		}},
		{"entry returns without link", "fatal error: ctx: the entry function returned and its Context has no Link to resume", func(t *testing.T) {
			p := newPair(t, func(p *pair) {})
			p.child.Link = nil
			ctx.Region(p.resume)
		}},
		{"resume after return", "fatal error: ctx: Switch to a context that is running or finished", func(t *testing.T) {
			p := newPair(t, func(p *pair) {})
			ctx.Region(func() { p.resume(); p.resume() })
		}},
		{"resume the running context", "fatal error: ctx: Switch to a context that is running or finished", func(t *testing.T) {
			p := newPair(t, func(p *pair) { p.resume() })
			ctx.Region(p.resume)
		}},
		{"switch to another goroutine's context", "fatal error: ctx: Switch to a context of another goroutine", func(t *testing.T) {
			p := newPair(t, func(p *pair) {})
			done := make(chan bool)
			go func() { ctx.Region(p.resume); close(done) }()
			<-done
		}},
		{"switch to a zero context", "fatal error: ctx: Switch to a context of another goroutine, or one never saved or initialized", func(t *testing.T) {
			var a, b ctx.Context
			ctx.Region(func() { ctx.Switch(&a, &b) })
		}},
		{"yield from the wrong stack", "fatal error: ctx: Switch from a context made by Init that is not running", func(t *testing.T) {
			var outer, inner *pair
			outer = newPair(t, func(p *pair) { inner.resume() })
			inner = newPair(t, func(p *pair) { outer.yield() }) // outer's yield on inner's stack
			inner.parent = outer.child                          // let inner be resumed from outer
			ctx.Region(outer.resume)
		}},
		{"switch to a resume point's variant with no hook", "fatal error: ctx: SwitchToResumePoint or SwitchToYieldPoint to a context that has no hook (use Switch)", func(t *testing.T) {
			var a, b ctx.Context
			ctx.SwitchToResumePoint(&a, &b)
		}},
		{"switch to a yield point's variant with no hook", "fatal error: ctx: SwitchToResumePoint or SwitchToYieldPoint to a context that has no hook (use Switch)", func(t *testing.T) {
			p := newPair(t, func(p *pair) {})
			ctx.Region(func() { ctx.SwitchToYieldPoint(&p.parent, &p.child) })
		}},
		{"overflow", "fatal error: stack size not a power of 2", func(t *testing.T) {
			p := newPair(t, func(p *pair) { recurse(1 << 20) })
			ctx.Region(p.resume)
		}},
		{"region budget exceeded", "fatal error: traceback did not unwind completely", func(t *testing.T) {
			ctx.Region(func() { recurse(1 << 20) })
		}},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			if testproc.IsChild(t) {
				tc.run(t)
				t.Fatal("survived")
			}
			r := testproc.Run(t)
			require.Error(t, r.Err, r.Output)
			assert.Contains(t, r.Output, tc.want)
		})
	}
}

//go:noinline
func recurse(n int) int {
	var pad [256]byte
	pad[n%256] = byte(n)
	if n == 0 {
		return 0
	}
	return recurse(n-1) + int(pad[(n+1)%256])
}

func BenchmarkSwitch(b *testing.B) {
	p := newPair(b, func(p *pair) {
		for {
			p.yield()
		}
	})
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(b.N-done, 100_000) // short regions: they hold up the GC
		ctx.Region(func() {
			for i := 0; i < n; i++ {
				p.resume()
			}
		})
		done += n
	}
}

// BenchmarkSwitchWithDeferRecord is BenchmarkSwitch with a deferred call
// pending in a record on the goroutine (a defer in a loop makes one):
// every switch then moves the defer chain with its stack, in Go, with
// write barriers.
func BenchmarkSwitchWithDeferRecord(b *testing.B) {
	p := newPair(b, func(p *pair) {
		for {
			p.yield()
		}
	})
	for i := 0; i < 1; i++ {
		defer func() {}() // in a loop: not open-coded, a record on g._defer
	}
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(b.N-done, 100_000)
		ctx.Region(func() {
			for i := 0; i < n; i++ {
				p.resume()
			}
		})
		done += n
	}
}

// A hook runs in the switch's place and returns through ctx.hookReturn, a
// frame of its own that the runtime's unwinder leaves out (WRAPPER) and
// that the frame-pointer chain goes through, to the code that called
// Switch. The hook grows its stack, so the copy must also move that frame's
// saved frame pointer: the caller's chain is checked after the hook returns.
func TestHookFramesReachTheCaller(t *testing.T) {
	var in, after stackView
	var from, hook ctx.Context
	hook.SetHook(func() {
		in = view()
		recurse(2_500)
	})
	after = switchToHook(&from, &hook)
	require.NotEmpty(t, in.names)
	assert.True(t, strings.HasPrefix(in.names[0], "github.com/corokit/corokit/ctx_test.TestHookFramesReachTheCaller.func"), in.names)
	assert.Equal(t, "github.com/corokit/corokit/ctx_test.switchToHook", in.names[1], "the hook appears called by Switch's caller: %v", in.names)
	var chain []uintptr // the frame-pointer chain without hookReturn
	for _, pc := range in.fp {
		if f := runtime.FuncForPC(pc - 1); f != nil && f.Name() == "github.com/corokit/corokit/ctx.hookReturn" {
			continue
		}
		chain = append(chain, pc)
	}
	require.Len(t, chain, len(in.fp)-1, "the frame-pointer chain goes through hookReturn once")
	in.fp = chain
	in.check(t)
	after.check(t)
}

//go:noinline
func switchToHook(from, to *ctx.Context) stackView {
	ctx.Switch(from, to)
	return view()
}
