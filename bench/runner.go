package bench

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Result is one case's measurement.
type Result struct {
	Name string `json:"name"`
	Doc  string `json:"doc"`
	// NsPerRoundTrip is the median of Samples.
	NsPerRoundTrip float64 `json:"ns_per_round_trip"`
	// Samples holds ns per round trip, one per run.
	Samples []float64 `json:"samples"`
	// TSCTicks holds time-stamp-counter ticks per round trip, one per run:
	// ticks of the TSC (amd64) or the generic timer (arm64) at its fixed
	// frequency, not core cycles.
	TSCTicks []float64 `json:"tsc_ticks"`
}

// Min and Max give the spread of the samples.
func (r Result) Min() float64 { return slices.Min(r.Samples) }
func (r Result) Max() float64 { return slices.Max(r.Samples) }

// MedianTicks is the median of TSCTicks.
func (r Result) MedianTicks() float64 { return median(r.TSCTicks) }

// Options configures Run.
type Options struct {
	Count    int            // runs per case (default 5)
	Duration time.Duration  // target length of one run (default 100ms)
	Match    *regexp.Regexp // cases to run (default all)
	// Progress, if set, is told before each run.
	Progress func(caseIndex, cases, run int, name string)
}

func (o *Options) defaults() {
	if o.Count <= 0 {
		o.Count = 5
	}
	if o.Duration <= 0 {
		o.Duration = 100 * time.Millisecond
	}
}

// Run measures the Go cases. The runs are interleaved: each of Count
// rounds runs every case once, so that a ratio between two cases compares
// runs taken close together, not minutes apart on a machine whose speed
// drifts.
func Run(opts Options) []Result {
	opts.defaults()
	var cases []Case
	for _, c := range Cases() {
		if opts.Match == nil || opts.Match.MatchString(c.Name) {
			cases = append(cases, c)
		}
	}
	runs := make([]func(int), len(cases))
	dones := make([]func(), len(cases))
	sizes := make([]int, len(cases))
	out := make([]Result, len(cases))
	// One deferred call, not one per case: a defer in a loop leaves a
	// record on the goroutine, and every ctx.Switch would then move the
	// defer chain (docs/design.md, section 2).
	defer func() {
		for _, done := range dones {
			if done != nil {
				done()
			}
		}
	}()
	for i, c := range cases {
		runs[i], dones[i] = c.Prepare()
		sizes[i] = calibrate(runs[i], opts.Duration)
		out[i] = Result{Name: c.Name, Doc: c.Doc}
	}
	for k := 0; k < opts.Count; k++ {
		for i, c := range cases {
			if opts.Progress != nil {
				opts.Progress(i, len(cases), k, c.Name)
			}
			n := sizes[i]
			start, t0 := time.Now(), ticks()
			runs[i](n)
			t1, d := ticks(), time.Since(start)
			out[i].Samples = append(out[i].Samples, float64(d.Nanoseconds())/float64(n))
			out[i].TSCTicks = append(out[i].TSCTicks, float64(t1-t0)/float64(n))
		}
	}
	for i := range out {
		out[i].NsPerRoundTrip = median(out[i].Samples)
	}
	return out
}

// calibrate warms run up and returns how many round trips take about d.
func calibrate(run func(int), d time.Duration) int {
	run(100)
	n := 100
	for {
		start := time.Now()
		run(n)
		if el := time.Since(start); el >= d/10 || n >= 1<<30 {
			return max(1, int(float64(n)*float64(d)/float64(max(el, time.Microsecond))))
		}
		n *= 4
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// TSCHz measures the frequency of the counter that ticks reads, over d.
func TSCHz(d time.Duration) float64 {
	start, t0 := time.Now(), ticks()
	time.Sleep(d)
	t1, el := ticks(), time.Since(start)
	return float64(t1-t0) / el.Seconds()
}

func ticks() uint64

// String formats a result as one line.
func (r Result) String() string {
	return fmt.Sprintf("%s: %.1f ns/round trip (%.1f-%.1f)", r.Name, r.NsPerRoundTrip, r.Min(), r.Max())
}
