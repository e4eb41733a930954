package testproc

import (
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// GCLoop runs runtime.GC in a loop on a goroutine of its own, as the
// garbage-collector tortures need, until stop is called. cycles reports how
// many collections the loop has completed: a torture runs on until it has
// seen enough of them, since one the collector never interrupted would
// prove nothing.
func GCLoop() (cycles func() int64, stop func()) {
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				runtime.GC()
				n.Add(1)
			}
		}
	}()
	return n.Load, func() { close(done) }
}

// OnNewGoroutine runs f on a new goroutine and waits until that goroutine
// ends, whether f returns or ends it with runtime.Goexit. A new goroutine's
// g fields start in a known state: no defers, no panics, no carrier, a
// small runtime-allocated stack.
func OnNewGoroutine(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// Park starts n goroutines that block until release is called: a
// goroutine profile of the process then takes long enough to watch.
func Park(n int) (release func()) {
	block := make(chan struct{})
	var parked sync.WaitGroup
	for i := 0; i < n; i++ {
		parked.Add(1)
		go func() { parked.Done(); <-block }()
	}
	parked.Wait()
	return func() { close(block) }
}

// Goroutines counts the goroutines that have a frame of a function whose
// name contains fn, in a dump of all goroutines: an exact count of a
// test's own goroutines, where runtime.NumGoroutine also counts those of
// earlier tests that have yet to exit.
func Goroutines(fn string) int {
	var dump strings.Builder
	if err := pprof.Lookup("goroutine").WriteTo(&dump, 2); err != nil { // runtime.Stack(all)'s text
		panic(err)
	}
	count := 0
	for _, g := range strings.Split(dump.String(), "\n\n") {
		if strings.Contains(g, fn) {
			count++
		}
	}
	return count
}

// WaitGone runs the collector until no goroutine has a frame of fn (see
// Goroutines), and returns how many are left. It gives up after a minute:
// a few cycles do natively, but under qemu-user a collection after an
// earlier test's thousands of goroutines takes seconds.
func WaitGone(fn string) int {
	deadline := time.Now().Add(time.Minute)
	for {
		n := Goroutines(fn)
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
