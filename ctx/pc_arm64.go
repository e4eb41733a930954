package ctx

// On arm64 the return PC arrives in LR, not on the stack: the switch saves
// it in c.pc, with sp in one store-pair instruction.
const resumePCWords = 1

const contextSize = 128

func (c *Context) resumePC() uintptr { return c.pc[0] }

func (c *Context) setResumePC(pc uintptr) { c.pc[0] = pc }
