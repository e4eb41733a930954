package bench

// floorContext is where a side was left: the registers Go code keeps live
// across a call, the resume PC (LR) beside SP for arm64's store-pair.
type floorContext struct {
	sp, pc, bp uintptr
	status     uint32 // floorRunning or floorWaiting: see floorHandoffSwitch
}

func (c *floorContext) setResumePC(_ []byte, _ uintptr, pc uintptr) { c.pc = pc }
