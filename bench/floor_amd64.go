package bench

// floorContext is where a side was left: the registers Go code keeps live
// across a call. The resume PC is the word below sp, where the CALL into
// floorSwitch pushed it.
type floorContext struct {
	sp, bp uintptr
	status uint32 // floorRunning or floorWaiting: see floorHandoffSwitch
}

// setResumePC makes c resume at pc; the word below c.sp lies in a stack
// of its own.
func (c *floorContext) setResumePC(s []byte, lo uintptr, pc uintptr) {
	putWord(s, c.sp-8-lo, pc)
}
