package coro_test

import (
	"strings"
	"testing"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A misuse panics in the API function the user called, so that the trace
// starts there, not in an internal package. Resume and Yield are inlined
// into the caller and their switch calls the engine instead of switching
// when the coroutine cannot run: the engine's report (a hook of package
// coro) panics right above them.
func TestMisuseFrames(t *testing.T) {
	body := func(c *coro.Coro[int, int], in int) int { return c.Yield(in) }
	finished := coro.New(body)
	finished.Resume(1)
	finished.Resume(2)
	suspended := coro.New(body)
	suspended.Resume(1)
	defer suspended.Close()
	var rawFinished, rawDiscarded *coro.Coro[int, int]
	require.Panics(t, func() { // the Region discards the suspended one, and says so
		coro.Region(func() {
			rawFinished = coro.New(func(*coro.Coro[int, int], int) int { return 0 }, coro.WithEngine(coro.Raw))
			rawFinished.Resume(1)
			rawDiscarded = coro.New(body, coro.WithEngine(coro.Raw))
			rawDiscarded.Resume(1)
		})
	})

	for _, tc := range []struct {
		name  string
		f     func()
		frame string // the function that panics
		hook  string // if set, the frame must be a coro hook right above this API function
	}{
		{"New(nil)", func() { coro.New[int, int](nil) }, "coro.New[...]", ""},
		{"Raw outside a Region", func() { coro.New(body, coro.WithEngine(coro.Raw)) }, "coro.New[...]", ""},
		{"WithStackSize", func() { coro.WithStackSize(100) }, "coro.WithStackSize", ""},
		{"WithEngine", func() { coro.WithEngine(7) }, "coro.WithEngine", ""},
		{"WithAllocator", func() { coro.WithAllocator(nil) }, "coro.WithAllocator", ""},
		{"Resume finished", func() { finished.Resume(3) }, "", "coro.(*Coro[...]).Resume"},
		{"Yield outside the body", func() { suspended.Yield(3) }, "", "coro.(*Coro[...]).Yield"},
		{"Raw Resume finished", func() { rawFinished.Resume(3) }, "coro.resumeFinished", "coro.(*Coro[...]).Resume"},
		{"Raw Resume discarded", func() { rawDiscarded.Resume(3) }, "coro.resumeDiscarded", "coro.(*Coro[...]).Resume"},
	} {
		value, frames := testproc.PanicFrames(tc.f)
		require.IsType(t, "", value, tc.name)
		require.GreaterOrEqual(t, len(frames), 2, tc.name)
		if tc.frame != "" {
			assert.Equal(t, tc.frame, frames[0], "%s: %s", tc.name, value)
		}
		if tc.hook != "" {
			assert.True(t, strings.HasPrefix(frames[0], "coro."), "%s: %v", tc.name, frames)
			assert.Equal(t, tc.hook, frames[1], "%s: %v", tc.name, frames)
		}
	}
}

// Inside a Region, where a panic is fatal anyway ("panic holding locks"
// after the message and a goroutine dump), a misuse is a fatal error with
// its own message.
func TestMisuseInRegion(t *testing.T) {
	if testproc.IsChild(t) {
		coro.Region(func() { coro.WithStackSize(100) })
		return
	}
	r := testproc.Run(t)
	require.Error(t, r.Err, r.Output)
	assert.Contains(t, r.Output, "fatal error: coro: WithStackSize(100): want 4096 to 1073741824 bytes\n")
	assert.Contains(t, r.Output, "coro.WithStackSize(")
	assert.NotContains(t, r.Output, "panic holding locks")
}

// A Coro not made by New switches nowhere: Resume and Yield panic.
func TestZeroCoro(t *testing.T) {
	var c coro.Coro[int, int]
	assert.Panics(t, func() { c.Resume(1) })
	assert.Panics(t, func() { c.Yield(1) })
}
