//go:build linux && (amd64 || arm64) && race

package gabi

import (
	"runtime"
	"unsafe"
)

// RaceAcquire and RaceRelease tell the race detector about the ordering a
// CoroSwitch establishes, as iter.Pull does: the runtime's handoff does not.
// Without -race they are empty.
func RaceAcquire(p unsafe.Pointer) { runtime.RaceAcquire(p) }

func RaceRelease(p unsafe.Pointer) { runtime.RaceRelease(p) }
