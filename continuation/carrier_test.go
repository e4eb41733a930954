package continuation

import (
	"testing"
	"unsafe"

	"github.com/corokit/corokit/internal/gabi"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
)

// A new goroutine's carrier takes its table slot from the carrier of an
// exited goroutine, known by its g now running a goroutine with another
// id, and leaves a live goroutine's carrier where it is.
func TestCarrierTakesSlotFromExitedGoroutine(t *testing.T) {
	other := make(chan unsafe.Pointer)
	block := make(chan struct{})
	defer close(block)
	go func() { other <- gabi.G(); <-block }()
	g := <-other // a live goroutine's g

	for _, tc := range []struct {
		name  string
		goid  uint64 // of the carrier that holds the slot
		taken bool
	}{
		{"g reused", gabi.Goid(g) + 1<<40, true},
		{"g live", gabi.Goid(g), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mine, held *carrier
			testproc.OnNewGoroutine(func() { // a goroutine with no carrier yet
				s := slot(uintptr(gabi.G()))
				old := s.Load()
				defer s.Store(old)
				held = &carrier{g: uintptr(g), goid: tc.goid}
				s.Store(held)
				mine = carrierFor(gabi.G())
				if tc.taken {
					assert.Same(t, mine, s.Load(), "the slot")
				} else {
					assert.Same(t, held, s.Load(), "the slot")
					outOfOverflow(mine)
				}
			})
			assert.NotSame(t, held, mine)
		})
	}
}
