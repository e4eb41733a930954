package ctx_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/corokit/corokit/ctx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallReturns(t *testing.T) {
	calls := 0
	assert.True(t, ctx.Call(func(c ctx.Caller) { calls++ }), "true by default")
	assert.False(t, ctx.Call(func(c ctx.Caller) { calls++; c.SetResult(false) }))
	assert.True(t, ctx.Call(func(c ctx.Caller) { calls++; c.SetResult(false); c.SetResult(true) }))
	assert.Equal(t, 3, calls)
	// fn runs as any Go function: it may grow and so move the stack (the
	// Caller moves with it), collect garbage, and panic through Call.
	done := make(chan bool)
	go func() { // a fresh goroutine: its small stack must grow
		done <- ctx.Call(func(c ctx.Caller) {
			calls += recurse(1000)
			runtime.GC()
			c.SetResult(false) // through the moved Caller
		})
	}()
	assert.False(t, <-done)
	assert.PanicsWithValue(t, "from fn", func() { ctx.Call(func(c ctx.Caller) { panic("from fn") }) })
}

// A Caller kept past its function would write into a frame that may
// belong to other code by then: it panics instead.
func TestCallerDiesWithItsCall(t *testing.T) {
	var kept ctx.Caller
	ctx.Call(func(c ctx.Caller) { kept = c })
	const msg = "ctx: a Caller used outside the function Call runs"
	assert.PanicsWithValue(t, msg, func() { kept.SetResult(false) })
	var from, to ctx.Context
	to.SetHook(func() {})
	assert.PanicsWithValue(t, msg, func() { kept.Redirect(&from, &to) })
	assert.PanicsWithValue(t, msg, func() { ctx.Caller{}.SetResult(true) })
	// Inside its function, both work, through any depth of calls.
	assert.False(t, ctx.Call(func(c ctx.Caller) { func() { c.SetResult(false) }() }))
}

// redirectPair switches both ways with Call and Redirect, so that neither
// side's hook frame stays between its code and the switch.
func (p *pair) resumeByCall() bool {
	return ctx.Call(func(c ctx.Caller) { c.Redirect(&p.parent, &p.child) })
}

func (p *pair) yieldByCall() bool {
	return ctx.Call(func(c ctx.Caller) { c.Redirect(&p.child, &p.parent) })
}

func TestRedirectSwitchesForTheCaller(t *testing.T) {
	var in, out int
	var childOK []bool
	p := newPair(t, func(p *pair) {
		for {
			out = in * 3
			childOK = append(childOK, p.yieldByCall())
		}
	})
	ctx.Region(func() {
		for i := 1; i <= 1000; i++ {
			in = i
			var ok bool
			if i%2 == 0 {
				ok = p.resumeByCall()
			} else {
				p.resume() // a plain Switch resumes a context that Redirect saved
				ok = true
			}
			if !ok || out != 3*i {
				t.Errorf("round trip %d: ok %v, got %d", i, ok, out)
				return
			}
		}
	})
	require.Len(t, childOK, 999) // the 1000th is still pending
	for _, ok := range childOK {
		require.True(t, ok, "Call returns true when the caller is resumed")
	}
}

func TestRedirectLeavesNoFrameBehind(t *testing.T) {
	p := newPair(t, func(p *pair) {
		deeper(3, func() { p.yieldByCall() })
	})
	var names []string
	ctx.Region(func() {
		p.resume()
		f := runtime.CallersFrames(p.child.CallerPCs(100))
		for more := true; more; {
			var fr runtime.Frame
			fr, more = f.Next()
			names = append(names, fr.Function)
		}
		p.resume()
	})
	// The suspended stack resumes in the code that called Call (Call is
	// inlined there): the hook that redirected is gone from it.
	require.GreaterOrEqual(t, len(names), 3)
	assert.Equal(t, []string{
		"github.com/corokit/corokit/ctx.Call",
		"github.com/corokit/corokit/ctx_test.(*pair).yieldByCall",
		"github.com/corokit/corokit/ctx_test.TestRedirectLeavesNoFrameBehind.func1.1",
	}, names[:3])
	assert.Equal(t, 4, strings.Count(strings.Join(names, " "), "ctx_test.deeper"), names)
	assert.Equal(t, "github.com/corokit/corokit/ctx.trampoline", names[len(names)-1], names)
}

func TestRedirectToAHook(t *testing.T) {
	var from, hook ctx.Context
	calls := 0
	hook.SetHook(func() { calls++ })
	// No region needed: a hook target does not switch. The hook returns
	// straight to Call's caller, and Call reports true.
	ok := ctx.Call(func(c ctx.Caller) {
		c.SetResult(false) // overridden: Redirect always completes the call
		c.Redirect(&from, &hook)
	})
	assert.True(t, ok)
	assert.Equal(t, 1, calls)
	assert.False(t, from.Suspended(), "from is not saved by a hook call")
}

// BenchmarkCallRedirect is BenchmarkSwitch with each switch made through
// Call and a hook that redirects: what the mechanism costs over a bare
// Switch. (The hooks are made once: a closure made per call would be
// allocated, since Call's argument escapes.)
func BenchmarkCallRedirect(b *testing.B) {
	var resume, yield func(ctx.Caller)
	p := newPair(b, func(p *pair) {
		for {
			ctx.Call(yield)
		}
	})
	resume = func(c ctx.Caller) { c.Redirect(&p.parent, &p.child) }
	yield = func(c ctx.Caller) { c.Redirect(&p.child, &p.parent) }
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(b.N-done, 100_000)
		ctx.Region(func() {
			for i := 0; i < n; i++ {
				ctx.Call(resume)
			}
		})
		done += n
	}
}
