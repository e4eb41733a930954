package testproc

import (
	"runtime"
	"strings"
)

// PanicFrames calls f and, if it panics, recovers and returns the panic
// value and the functions of the panicking stack from the one that called
// panic outwards, inlined calls included: what the trace of an unrecovered
// panic lists after "panic(...)". Names lose their package path up to the
// last slash ("coro.New[...]"). If f returns, both are nil.
func PanicFrames(f func()) (value any, frames []string) {
	defer func() {
		value = recover()
		if value == nil {
			return
		}
		pcs := make([]uintptr, 100)
		it := runtime.CallersFrames(pcs[:runtime.Callers(1, pcs)])
		seen := false // runtime.gopanic: the frames after it panicked
		for more := true; more; {
			var fr runtime.Frame
			fr, more = it.Next()
			if seen {
				frames = append(frames, fr.Function[strings.LastIndex(fr.Function, "/")+1:])
			}
			seen = seen || fr.Function == "runtime.gopanic"
		}
	}()
	f()
	return nil, nil
}
