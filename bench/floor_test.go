package bench

import (
	"testing"

	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
)

// The floor-handoff case changes the two sides' statuses as a goroutine
// handoff does: after whole round trips the calling side runs and the far
// side waits.
func TestFloorHandoffStatuses(t *testing.T) {
	_, entry := floorEntryPCs()
	run, done, self, other := newFloor(floorHandoffRun, entry)
	defer done()
	for _, n := range []int{1, 2, 10_001} {
		run(n)
		assert.Equal(t, uint32(floorRunning), self.status, "after %d round trips", n)
		assert.Equal(t, uint32(floorWaiting), other.status, "after %d round trips", n)
	}
}

// A side resumed out of turn stops the process at the switch's trap, as
// a goroutine handoff throws rather than run a goroutine twice.
func TestFloorHandoffTrapsOutOfTurn(t *testing.T) {
	if testproc.IsChild(t) {
		_, entry := floorEntryPCs()
		run, _, _, other := newFloor(floorHandoffRun, entry)
		other.status = floorRunning
		run(1)
		return
	}
	res := testproc.Run(t)
	assert.Error(t, res.Err, res.Output)
	assert.Regexp(t, `SIGTRAP|SIGILL`, res.Output)
	assert.Contains(t, res.Output, "bench.floorHandoffSwitch")
}

// The plain floor leaves the statuses alone: it is the handoff case less
// exactly its two compare-and-swaps.
func TestFloorLeavesStatuses(t *testing.T) {
	entry, _ := floorEntryPCs()
	run, done, self, other := newFloor(floorRun, entry)
	defer done()
	self.status, other.status = 7, 9
	run(1_001)
	assert.Equal(t, uint32(7), self.status)
	assert.Equal(t, uint32(9), other.status)
}
