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

// Run measures the Go cases.
func Run(opts Options) []Result {
	opts.defaults()
	var cases []Case
	for _, c := range Cases() {
		if opts.Match == nil || opts.Match.MatchString(c.Name) {
			cases = append(cases, c)
		}
	}
	var out []Result
	for i, c := range cases {
		out = append(out, measure(c, i, len(cases), opts))
	}
	return out
}

// measure calibrates the number of round trips to the target duration,
// then times Count runs of it.
func measure(c Case, index, total int, opts Options) Result {
	run, done := c.Prepare()
	defer done()
	run(100) // warm up
	n := 100
	for {
		start := time.Now()
		run(n)
		if d := time.Since(start); d >= opts.Duration/10 || n >= 1<<30 {
			n = max(1, int(float64(n)*float64(opts.Duration)/float64(max(d, time.Microsecond))))
			break
		}
		n *= 4
	}
	r := Result{Name: c.Name, Doc: c.Doc}
	for k := 0; k < opts.Count; k++ {
		if opts.Progress != nil {
			opts.Progress(index, total, k, c.Name)
		}
		start, t0 := time.Now(), ticks()
		run(n)
		t1, d := ticks(), time.Since(start)
		r.Samples = append(r.Samples, float64(d.Nanoseconds())/float64(n))
		r.TSCTicks = append(r.TSCTicks, float64(t1-t0)/float64(n))
	}
	r.NsPerRoundTrip = median(r.Samples)
	return r
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
