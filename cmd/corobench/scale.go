package main

import (
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/internal/procfs"
)

// scaleResult is the cost of holding n suspended coroutines (or parked
// goroutines) at once.
type scaleResult struct {
	What              string
	N                 int
	Create            time.Duration // all n
	Resident, Virtual int64         // bytes added while all n are alive
	Mappings          int           // kernel mappings added
	StackSize         int
}

// measureScale runs create, which must create n live things, between two
// readings of the process's memory. It reads /proc with raw system calls,
// so it may run inside a Region.
func measureScale(what string, n int, create func()) scaleResult {
	buf := make([]byte, 64<<10)
	m0 := procfs.Mappings(buf)
	v0, r0, _ := procfs.Memory()
	start := time.Now()
	create()
	d := time.Since(start)
	v1, r1, _ := procfs.Memory()
	return scaleResult{What: what, N: n, Create: d, Resident: r1 - r0, Virtual: v1 - v0, Mappings: procfs.Mappings(buf) - m0}
}

func suspendedBody(c *coro.Coro[int, int], in int) int {
	for {
		in = c.Yield(in)
	}
}

func scaleRaw(n, stack int) scaleResult {
	var r scaleResult
	coro.Region(func() {
		cs := make([]*coro.Coro[int, int], n)
		r = measureScale("raw coroutines (in one Region)", n, func() {
			for i := range cs {
				cs[i] = coro.New(suspendedBody, coro.WithEngine(coro.Raw), coro.WithStackSize(stack))
				cs[i].Resume(i)
			}
		})
		for _, c := range cs {
			c.Close()
		}
	})
	r.StackSize = stack
	return r
}

func scaleGoroutine(n int) scaleResult {
	cs := make([]*coro.Coro[int, int], n)
	runtime.GC()
	r := measureScale("goroutine-engine coroutines", n, func() {
		for i := range cs {
			cs[i] = coro.New(suspendedBody)
			cs[i].Resume(i)
		}
	})
	for _, c := range cs {
		c.Close()
	}
	return r
}

func scaleParked(n int) scaleResult {
	block := make(chan struct{})
	started := make(chan struct{}, 1024)
	runtime.GC()
	r := measureScale("parked goroutines (baseline)", n, func() {
		for i := 0; i < n; i++ {
			go func() { started <- struct{}{}; <-block }()
			<-started
		}
	})
	close(block)
	return r
}

func printScale(w io.Writer, rs []scaleResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "what\tn\tcreate each\tresident each\tvirtual each\tmappings added\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%s\t%s\t%d\t\n", r.What, r.N, (r.Create / time.Duration(max(r.N, 1))).Round(time.Nanosecond),
			bytesEach(r.Resident, r.N), bytesEach(r.Virtual, r.N), r.Mappings)
	}
	tw.Flush()
	for _, r := range rs {
		if r.StackSize > 0 {
			fmt.Fprintf(w, "raw stacks: %d bytes usable each, guarded, from stackalloc.Default\n", r.StackSize)
		}
	}
}

func bytesEach(total int64, n int) string {
	each := float64(total) / float64(max(n, 1))
	if each >= 1024 {
		return fmt.Sprintf("%.1f KiB", each/1024)
	}
	return fmt.Sprintf("%.0f B", each)
}
