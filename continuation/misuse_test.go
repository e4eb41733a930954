package continuation_test

import (
	"strings"
	"testing"

	"github.com/corokit/corokit/continuation"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A misuse panics in the API function the user called. Run and Yield are
// inlined into the caller and go through their hook (a ctx.Call) when
// they cannot switch at once: the hook reports the misuse, with only
// ctx.Call's assembly between it and the API function.
func TestMisuseFrames(t *testing.T) {
	scope := continuation.NewScope("misuse")
	done := continuation.New(scope, func() {})
	done.Run()
	var unpin []string
	continuation.New(scope, func() { _, unpin = testproc.PanicFrames(continuation.Unpin) }).Run()
	require.NotEmpty(t, unpin, "Unpin without Pin did not panic")

	for _, tc := range []struct {
		name   string
		f      func()
		frames []string // the first, or the hook's package and the API function after it
	}{
		{"New(nil)", func() { continuation.New(scope, nil) }, []string{"continuation.New"}},
		{"Pin outside", continuation.Pin, []string{"continuation.Pin"}},
		{"Unpin outside", continuation.Unpin, []string{"continuation.Unpin"}},
		{"Run of a done continuation", done.Run, []string{"continuation.", "continuation.(*Continuation).Run"}},
		{"Yield with none mounted", func() { continuation.Yield(scope) }, []string{"continuation.", "continuation.Yield"}},
	} {
		value, frames := testproc.PanicFrames(tc.f)
		require.IsType(t, "", value, tc.name)
		if len(tc.frames) == 1 {
			assert.Equal(t, tc.frames[0], frames[0], "%s: %s", tc.name, value)
			continue
		}
		// The hook, then (past ctx) the API function.
		assert.True(t, strings.HasPrefix(frames[0], tc.frames[0]), "%s: %v", tc.name, frames)
		var api []string
		for _, f := range frames[1:] {
			if !strings.HasPrefix(f, "ctx.") {
				api = append(api, f)
			}
		}
		assert.Equal(t, tc.frames[1], api[0], "%s: %v", tc.name, frames)
	}
	assert.Equal(t, "continuation.Unpin", unpin[0])
}
