//go:build linux && (amd64 || arm64)

package gabi

import (
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The flag findWriteBarrier found in storePointer's code is set while a
// collection marks and clear otherwise: it turns on while another
// goroutine runs runtime.GC in a loop, and it is the flag that every
// pointer write the compiler emits checks (the finder requires the call to
// runtime.gcWriteBarrierN beside it). The name itself cannot be checked
// here: go test strips the symbol table.
func TestWriteBarrierFlag(t *testing.T) {
	require.NoError(t, WriteBarrierErr())
	require.Nil(t, runtime.FuncForPC(uintptr(unsafe.Pointer(writeBarrier))), "the flag lies in code")

	// Watch the flag while another goroutine collects.
	_, stop := testproc.GCLoop()
	var on, off bool
	for deadline := time.Now().Add(10 * time.Second); !(on && off) && time.Now().Before(deadline); {
		if GCMarking() {
			on = true
		} else {
			off = true
		}
	}
	stop()
	assert.True(t, on, "GCMarking never reported a collection marking while runtime.GC ran in a loop")
	assert.True(t, off, "GCMarking never reported false")
}
