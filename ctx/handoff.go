package ctx

// A Handoff lets two goroutines take turns through one runtime coroutine
// (the one iter.Pull makes), switching in assembly on the current stack
// instead of through the scheduler. It is being built; see
// docs/design.md.
type Handoff struct{}
