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

func floorEntryPC() uintptr

func prepareFloor() (func(int), func()) {
	s, err := stackalloc.Default.Alloc(4 << 10)
	if err != nil {
		panic(err)
	}
	// The far side starts as if called, with a zero return PC on top of
	// its stack and a zero frame pointer: unwinders see its end.
	top := s.Hi&^15 - 16
	putWord(s.Bytes(), top-s.Lo, 0)
	self, other := &floorContext{}, &floorContext{sp: top}
	other.setResumePC(s.Bytes(), s.Lo, floorEntryPC())
	run := func(n int) {
		inRegions(n, func(k int) { floorRun(k, self, other) })
	}
	// The far side never returns; its stack goes back once nothing runs on it.
	return run, func() { stackalloc.Default.Free(s) }
}

// putWord writes a machine word into a stack, at offset off.
func putWord(s []byte, off, v uintptr) { binary.NativeEndian.PutUint64(s[off:], uint64(v)) }
