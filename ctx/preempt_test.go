package ctx_test

import (
	"testing"

	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/gabi"
	"github.com/corokit/corokit/stackalloc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stackPreempt is the runtime's preemption request (runtime/stack.go).
const stackPreempt = ^uintptr(1314 - 1)

var (
	probeParent, probeChild ctx.Context
	probeSeen               uintptr
)

// probe runs as the child's entry. It is nosplit, so no prologue consumes
// a preemption request before it reads stackguard0.
//
//go:nosplit
func probe() {
	for {
		probeSeen = *gabi.StackGuard0(gabi.G())
		ctx.Switch(&probeChild, &probeParent)
	}
}

// switchRequesting stores a preemption request, as the scheduler does
// from another thread, and switches before any prologue can consume it.
//
//go:nosplit
func switchRequesting(request bool) {
	if request {
		*gabi.StackGuard0(gabi.G()) = stackPreempt
	}
	ctx.Switch(&probeParent, &probeChild)
}

func TestStackGuardFollowsTheStack(t *testing.T) {
	s, err := stackalloc.Default.Alloc(16 << 10)
	require.NoError(t, err)
	defer stackalloc.Default.Free(s)
	probeChild.Link = &probeParent
	ctx.Init(&probeChild, s, probe)
	var plain, requested uintptr
	ctx.Region(func() {
		switchRequesting(false)
		plain = probeSeen
		switchRequesting(true)
		requested = probeSeen
	})
	assert.Equal(t, s.Lo+gabi.StackGuard, plain, "the child's prologue limit is its own stack's")
	// A pinned goroutine's first prologue would drop the request too
	// (newstack cannot preempt it); g.preempt keeps it for Region's end.
	assert.Equal(t, s.Lo+gabi.StackGuard, requested, "a pending preemption request gives way to the new stack's limit")
}
