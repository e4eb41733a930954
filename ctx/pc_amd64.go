package ctx

// On amd64 a suspended context's resume PC is the return PC that the CALL
// into the switch pushed, in the word below its sp: the switch only saves
// sp, and resumes with a load from below it and a JMP.
const resumePCWords = 0

const contextSize = 112

func (c *Context) resumePC() uintptr { return *(*uintptr)(addr(c.sp - 8)) }

// setResumePC makes c resume at pc. c.sp must lie in a stack of its own.
func (c *Context) setResumePC(pc uintptr) { *(*uintptr)(addr(c.sp - 8)) = pc }
