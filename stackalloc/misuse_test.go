package stackalloc_test

import (
	"testing"

	"github.com/corokit/corokit/internal/testproc"
	"github.com/corokit/corokit/stackalloc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A misuse panics in the API function the user called, not in a helper.
func TestMisuseFrames(t *testing.T) {
	a := stackalloc.New()
	s, err := a.Alloc(4096)
	require.NoError(t, err)
	a.Free(s)
	for _, tc := range []struct {
		name  string
		f     func()
		frame string
	}{
		{"Free zero", func() { a.Free(stackalloc.Stack{}) }, "stackalloc.(*Allocator).Free"},
		{"Free twice", func() { a.Free(s) }, "stackalloc.(*Allocator).Free"},
		{"WithGuard", func() { stackalloc.WithGuard(9) }, "stackalloc.WithGuard"},
		{"WithPoolSize", func() { stackalloc.WithPoolSize(-1) }, "stackalloc.WithPoolSize"},
	} {
		value, frames := testproc.PanicFrames(tc.f)
		require.IsType(t, "", value, tc.name)
		assert.Equal(t, tc.frame, frames[0], "%s: %s", tc.name, value)
	}
}
