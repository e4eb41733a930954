//go:build race

package luacoro_test

// stackFactor is how much more stack the race detector's instrumented
// frames take than the documented figures, which are for ordinary builds:
// about 1.7 times (pcall 1.8 KiB a level, a sort comparator 2.1).
const stackFactor = 2
