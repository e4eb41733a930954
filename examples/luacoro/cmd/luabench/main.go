// Command luabench measures luacoro against stock gopher-lua: a producer
// coroutine made by coroutine.wrap hands values to the main thread, one
// resume and one yield each, on stock gopher-lua and on luacoro's two
// engines. The cases run interleaved, one after another in each of -rounds
// rounds, so that each ratio compares runs taken moments apart; it prints
// ns per value (median over the rounds) and the median of the per-round
// ratios to stock.
//
//	go run ./examples/luacoro/cmd/luabench
//
// -clock cpu times each run by the process's CPU time (user and system,
// all threads) instead of the wall clock: on a machine that other work
// keeps busy, that leaves out the time spent waiting for a CPU.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/corokit/corokit/examples/luacoro/internal/prodcons"
)

func main() {
	rounds := flag.Int("rounds", 9, "rounds; each runs every case once")
	n := flag.Int("n", 1_000_000, "values per case and round")
	clock := flag.String("clock", "wall", "wall or cpu: what times a run")
	flag.Parse()
	if *rounds < 1 || *n < 1 {
		fmt.Fprintln(os.Stderr, "luabench: -rounds and -n must be positive")
		os.Exit(2)
	}
	now := wallClock
	switch *clock {
	case "wall":
	case "cpu":
		now = cpuClock
	default:
		fmt.Fprintf(os.Stderr, "luabench: -clock %q: want wall or cpu\n", *clock)
		os.Exit(2)
	}
	cases := prodcons.Cases()
	ns := make([][]float64, len(cases))    // ns per value, per case and round
	ratio := make([][]float64, len(cases)) // to stock (cases[0]), per round
	runs := make([]func(int), len(cases))
	for i, c := range cases {
		run, done := c.New()
		defer done()
		run(prodcons.Chunk) // warm up
		runs[i] = run
	}
	for r := 0; r < *rounds; r++ {
		for i, run := range runs {
			start := now()
			run(*n)
			ns[i] = append(ns[i], float64(now()-start)/float64(*n))
		}
		for i := range cases {
			ratio[i] = append(ratio[i], ns[i][r]/ns[0][r])
		}
	}
	fmt.Printf("producer/consumer through coroutine.wrap, %d values per case, %d interleaved rounds, %s clock, GOMAXPROCS=%d (medians)\n\n", *n, *rounds, *clock, runtime.GOMAXPROCS(0))
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "case\tns per value\tvs stock\tratio range\t")
	for i, c := range cases {
		fmt.Fprintf(w, "%s\t%.0f\t%.2fx\t%.2f-%.2fx\t\n", c.Name, median(ns[i]), median(ratio[i]), slices.Min(ratio[i]), slices.Max(ratio[i]))
	}
	w.Flush()
}

// wallClock and cpuClock return nanoseconds since some fixed point.
func wallClock() int64 { return time.Now().UnixNano() }

func cpuClock() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
