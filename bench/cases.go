// Package bench measures the cost of a context switch round trip (one
// switch there and one back) for every way Go, and C++ for comparison, can
// switch: corokit's engines, the runtime's own coroutine handoff, channels,
// the scheduler and OS threads. BenchmarkRoundTrip runs the cases under
// go test -bench; Run runs them for the corobench command.
package bench

import (
	"iter"
	"runtime"
	"sync"
	"syscall"

	"github.com/corokit/corokit/continuation"
	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/stackalloc"
)

// Case is one way of switching.
type Case struct {
	Name  string
	Group Group
	Doc   string
	// Prepare sets the case up and returns run, which performs n round
	// trips, and done, which releases what Prepare made.
	Prepare func() (run func(n int), done func())
}

// Group says who implements a case's switch, so that charts and tables can
// tell corokit's own figures from the baselines around them. A case that
// fits none of these may name a group of its own; charts draw unknown
// groups in grey.
type Group string

const (
	Corokit   Group = "corokit"    // corokit's engines: ctx, coro and continuation, Raw and Goroutine alike
	GoRuntime Group = "Go runtime" // the Go runtime alone: iter.Pull, channels, the scheduler
	OSThreads Group = "OS threads" // the kernel: threads woken through pipes
	Cxx       Group = "C++"        // C++ baselines built with g++
	Floor     Group = "floor"      // the machine's floor: a bare swap, no usable switch
)

// regionChunk bounds the round trips per Region: a region holds up the
// garbage collector and every stop-the-world, so benchmarks keep them short.
const regionChunk = 10_000

// inRegions runs f(k) for chunks of n inside short Regions.
func inRegions(n int, f func(k int)) {
	for n > 0 {
		k := min(n, regionChunk)
		coro.Region(func() { f(k) })
		n -= k
	}
}

// Cases returns the cases, fastest kinds first.
func Cases() []Case {
	return []Case{
		{Name: "floor", Group: Floor, Prepare: prepareFloor,
			Doc: "the machine's floor: an SP, PC and frame-pointer swap between two stacks in assembly, with no checks and no runtime state (not a usable switch)"},
		{Name: "floor-handoff", Group: Floor, Prepare: prepareFloorHandoff,
			Doc: "floor plus the two atomic compare-and-swaps of goroutine status every goroutine handoff makes per switch: the least a switch between goroutines costs (not a usable switch)"},
		{Name: "ctx", Group: Corokit, Prepare: prepareCtx,
			Doc: "bare ctx.Switch between two contexts, inside a Region"},
		{Name: "raw", Group: Corokit, Prepare: prepareRaw,
			Doc: "coro Raw engine: Resume + Yield, inside a Region"},
		{Name: "continuation-raw", Group: Corokit, Prepare: prepareContinuationRaw,
			Doc: "continuation on the Raw engine: Run + Yield(scope), inside a Region"},
		{Name: "goroutine", Group: Corokit, Prepare: prepareGoroutine,
			Doc: "coro Goroutine engine: Resume + Yield, handing over between goroutines in corokit's assembly"},
		{Name: "goroutine-fallback", Group: Corokit, Prepare: prepareGoroutineFallback,
			Doc: "coro Goroutine engine with every switch through iter.Pull (WithRuntimeSwitch): what the fallback costs"},
		{Name: "continuation-goroutine", Group: Corokit, Prepare: prepareContinuationGoroutine,
			Doc: "continuation on the Goroutine engine: Run + Yield(scope)"},
		{Name: "iterpull", Group: GoRuntime, Prepare: prepareIterPull,
			Doc: "bare iter.Pull: one next() (the runtime's coroutine handoff)"},
		{Name: "chan", Group: GoRuntime, Prepare: prepareChan,
			Doc: "unbuffered channel ping-pong between two goroutines"},
		{Name: "gosched", Group: GoRuntime, Prepare: prepareGosched,
			Doc: "two goroutines alternating with runtime.Gosched under GOMAXPROCS=1"},
		{Name: "thread", Group: OSThreads, Prepare: prepareThread,
			Doc: "two OS threads (LockOSThread) handing a byte back and forth over pipes"},
	}
}

func prepareCtx() (func(int), func()) {
	s, err := stackalloc.Default.Alloc(16 << 10)
	if err != nil {
		panic(err)
	}
	var parent, child ctx.Context
	child.Link = &parent
	ctx.Init(&child, s, func() {
		for {
			ctx.Switch(&child, &parent)
		}
	})
	run := func(n int) {
		inRegions(n, func(k int) {
			for i := 0; i < k; i++ {
				ctx.Switch(&parent, &child)
			}
		})
	}
	// The child never returns; its stack goes back once nothing runs on it.
	return run, func() { stackalloc.Default.Free(s) }
}

func prepareRaw() (func(int), func()) {
	run := func(n int) {
		// Raw coroutines live inside one Region: one per chunk.
		inRegions(n, func(k int) {
			c := coro.New(func(c *coro.Coro[int, int], in int) int {
				for {
					in = c.Yield(in)
				}
			}, coro.WithEngine(coro.Raw), coro.WithStackSize(16<<10))
			for i := 0; i < k; i++ {
				c.Resume(i)
			}
			c.Close()
		})
	}
	return run, func() {}
}

// Each continuation case has a scope of its own: cases measured in turn
// share nothing.
var rawScope, goroutineScope = continuation.NewScope("raw"), continuation.NewScope("goroutine")

// yieldForever returns a body that yields to scope for ever. Not inlined:
// the compiler inlines nothing into the closures of a function that is
// itself inlined, and Yield must be inlined into the body.
//
//go:noinline
func yieldForever(scope *continuation.Scope) func() {
	return func() {
		for {
			continuation.Yield(scope)
		}
	}
}

func prepareContinuationRaw() (func(int), func()) {
	run := func(n int) {
		inRegions(n, func(k int) {
			c := continuation.New(rawScope, yieldForever(rawScope), coro.WithEngine(coro.Raw), coro.WithStackSize(16<<10))
			for i := 0; i < k; i++ {
				c.Run()
			}
			c.Close()
		})
	}
	return run, func() {}
}

func prepareContinuationGoroutine() (func(int), func()) {
	c := continuation.New(goroutineScope, yieldForever(goroutineScope))
	run := func(n int) {
		for i := 0; i < n; i++ {
			c.Run()
		}
	}
	return run, func() { c.Close() }
}

func prepareGoroutine() (func(int), func()) { return prepareGoroutineWith() }

func prepareGoroutineFallback() (func(int), func()) {
	return prepareGoroutineWith(coro.WithRuntimeSwitch())
}

func prepareGoroutineWith(opts ...coro.Option) (func(int), func()) {
	c := coro.New(func(c *coro.Coro[int, int], in int) int {
		for {
			in = c.Yield(in)
		}
	}, opts...)
	run := func(n int) {
		for i := 0; i < n; i++ {
			c.Resume(i)
		}
	}
	return run, func() { c.Close() }
}

func prepareIterPull() (func(int), func()) {
	next, stop := iter.Pull(iter.Seq[int](func(yield func(int) bool) {
		for i := 0; yield(i); i++ {
		}
	}))
	run := func(n int) {
		for i := 0; i < n; i++ {
			next()
		}
	}
	return run, stop
}

func prepareChan() (func(int), func()) {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	run := func(n int) {
		for i := 0; i < n; i++ {
			ping <- i
			<-pong
		}
	}
	return run, func() { close(ping) }
}

func prepareGosched() (func(int), func()) {
	run := func(n int) {
		prev := runtime.GOMAXPROCS(1)
		defer runtime.GOMAXPROCS(prev)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				runtime.Gosched()
			}
		}()
		// Each Gosched hands the only P to the other goroutine and back.
		for i := 0; i < n; i++ {
			runtime.Gosched()
		}
		wg.Wait()
	}
	return run, func() {}
}

func prepareThread() (func(int), func()) {
	var p1, p2 [2]int
	if err := syscall.Pipe(p1[:]); err != nil {
		panic(err)
	}
	if err := syscall.Pipe(p2[:]); err != nil {
		panic(err)
	}
	requests := make(chan int)
	finished := make(chan struct{})
	go func() { // the far thread: echo every byte
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		buf := make([]byte, 1)
		for n := range requests {
			for i := 0; i < n; i++ {
				syscall.Read(p1[0], buf)
				syscall.Write(p2[1], buf)
			}
			finished <- struct{}{}
		}
	}()
	run := func(n int) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		requests <- n
		buf := []byte{1}
		for i := 0; i < n; i++ {
			syscall.Write(p1[1], buf)
			syscall.Read(p2[0], buf)
		}
		<-finished
	}
	return run, func() {
		close(requests)
		for _, fd := range []int{p1[0], p1[1], p2[0], p2[1]} {
			syscall.Close(fd)
		}
	}
}
