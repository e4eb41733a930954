package ctx

import (
	"testing"
	"unsafe"

	"github.com/corokit/corokit/internal/gabi"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A region whose goroutine is found on another thread at its end throws.
// The record is forged here: a real move takes a forbidden system call and
// a scheduler that finds no free P (fact 21 in the shared notes; docs/design.md, section 4).
func TestRegionLeftItsThread(t *testing.T) {
	if testproc.IsChild(t) {
		g := gabi.G()
		r := enter(g)
		r.thread ^= 8
		r.leave(g)
		t.Fatal("survived")
	}
	r := testproc.Run(t)
	require.Error(t, r.Err, r.Output)
	assert.Contains(t, r.Output, "fatal error: ctx: the goroutine left its thread inside a Region")
}

// Switch reaches its assembly through a func value, for its arguments to
// arrive in registers; the probe sees what a caller passes that way.
func TestRegisterABI(t *testing.T) {
	var a, b Context
	gabi.FuncAt[func(a, b *Context)](abiProbePC())(&b, &a)
	want := abiRegs{uintptr(unsafe.Pointer(&b)), uintptr(unsafe.Pointer(&a)), uintptr(gabi.G())}
	assert.Equal(t, want, abiSeen, "first two argument registers, then g (zero on amd64 unless X15 was zero)")
	assert.NotPanics(t, checkRegisterABI)
}
