package testproc

import (
	"runtime"
	"sync"
	"sync/atomic"
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
