package bench

import (
	"encoding/binary"

	"github.com/corokit/corokit/stackalloc"
)

// The floor case: the least a switch between two stacks can do, as a
// yardstick for the others on the machine at hand. Two assembly loops,
// one on the calling goroutine's stack and one on a stackalloc stack,
// call floorSwitch in turn; it saves SP, the return PC and the frame
// pointer, the way ctx's switch does, and jumps to the other side's
// (floor_amd64.s, floor_arm64.s). It checks nothing and tells the runtime
// nothing: not a switch Go code could use, only what the machine charges
// for one.
//
// It is harmless where it runs: inside a Region the goroutine is pinned,
// so the scheduler and the garbage collector never stop it to look at its
// stack, and nothing but the two loops and floorSwitch ever runs on the
// second stack: no Go code, so no prologue compares SP with a
// g.stackguard0 that describes the other stack, and no call into the
// runtime. A signal handler runs on the thread's signal stack; the
// profiler's unwinder stops at floorSwitch (it writes SP: the assembler
// marks it SPWRITE) and at floorEntry (TOPFRAME) without reading the
// foreign stack, and finds ordinary frames in floorRun.

// floorRun makes n round trips from the calling stack (self) to other and
// back. floorSwitch takes from and to in the first two registers and leaves
// them there, so each side resumes with the other's context and its own,
// and exchanges them for its next switch; the count stays in a third
// register, which no floor code touches until floorRun returns.
func floorRun(n int, self, other *floorContext)

// floorSwitch, floorEntry: the switch and the far side's loop; they pass
// their operands in registers.
func floorSwitch()
func floorEntry()

// The floor-handoff case: the same, plus the two atomic compare-and-swaps
// of a goroutine's status that every handoff between goroutines makes on
// each switch, the runtime's (casgstatus in coroswitch_m) and corokit's
// (ctx/handoff_*.s) alike: the side that leaves goes from running to
// waiting, the side it resumes from waiting to running. Each is a locked
// instruction (amd64) or an acquire-release exclusive pair (arm64), which
// orders every load and store around it; what they cost varies far more
// between machines, and on a VM between runs, than plain loads and
// stores do. So the Goroutine engine's round trip is best read against
// this case, and the Raw engine's against floor.
func floorHandoffRun(n int, self, other *floorContext)
func floorHandoffSwitch()
func floorHandoffEntry()

// floorContext.status's values, as a goroutine's.
const (
	floorRunning = 1
	floorWaiting = 2
)

func floorEntryPCs() (plain, handoff uintptr)

func prepareFloor() (func(int), func()) {
	entry, _ := floorEntryPCs()
	run, done, _, _ := newFloor(floorRun, entry)
	return run, done
}

func prepareFloorHandoff() (func(int), func()) {
	_, entry := floorEntryPCs()
	run, done, _, _ := newFloor(floorHandoffRun, entry)
	return run, done
}

// newFloor sets up a floor case: floorRun's loop, on the calling stack,
// switches to entry's on a stackalloc stack and back. It returns the case's
// functions and the two sides' contexts.
func newFloor(floorRun func(n int, self, other *floorContext), entry uintptr) (run func(int), done func(), self, other *floorContext) {
	s, err := stackalloc.Default.Alloc(4 << 10)
	if err != nil {
		panic(err)
	}
	// The far side starts as if called, with a zero return PC on top of
	// its stack and a zero frame pointer: unwinders see its end.
	top := s.Hi&^15 - 16
	putWord(s.Bytes(), top-s.Lo, 0)
	self, other = &floorContext{status: floorRunning}, &floorContext{sp: top, status: floorWaiting}
	other.setResumePC(s.Bytes(), s.Lo, entry)
	run = func(n int) {
		inRegions(n, func(k int) { floorRun(k, self, other) })
	}
	// The far side never returns; its stack goes back once nothing runs on it.
	return run, func() { stackalloc.Default.Free(s) }, self, other
}

// putWord writes a machine word into a stack, at offset off.
func putWord(s []byte, off, v uintptr) { binary.NativeEndian.PutUint64(s[off:], uint64(v)) }
