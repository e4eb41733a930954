//go:build race

package ctx

// The race detector learns the order of the two goroutines' turns from
// iter.Pull's annotations, which the assembly handoff would skip.
const buildWhyOff = "a -race build: iter.Pull's switch tells the race detector the goroutines take turns"
