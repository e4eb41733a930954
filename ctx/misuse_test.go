package ctx_test

import (
	"testing"

	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/corokit/corokit/stackalloc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A misuse panics in the API function the user called, not in a helper.
func TestMisuseFrames(t *testing.T) {
	var kept ctx.Caller
	ctx.Call(func(c ctx.Caller) { kept = c })
	var c, d ctx.Context
	for _, tc := range []struct {
		name  string
		f     func()
		frame string
	}{
		{"Init nil entry", func() { ctx.Init(&c, stackalloc.Stack{}, nil) }, "ctx.Init"},
		{"SetResult after Call", func() { kept.SetResult(true) }, "ctx.Caller.SetResult"},
		{"Redirect after Call", func() { kept.Redirect(&c, &d) }, "ctx.Caller.Redirect"},
		{"Move unsuspended", func() { ctx.Move(&c, &d) }, "ctx.Move"},
	} {
		value, frames := testproc.PanicFrames(tc.f)
		require.IsType(t, "", value, tc.name)
		assert.Equal(t, tc.frame, frames[0], "%s: %s", tc.name, value)
	}
}
