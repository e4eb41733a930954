package bench

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Result is one case's measurement.
type Result struct {
	Name  string `json:"name"`
	Group Group  `json:"group"`
	Doc   string `json:"doc"`
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
	Match    *regexp.Regexp // cases to run, Go and external (default all)
	// External cases run in each round after the Go cases.
	External []External
	// Progress, if set, is told before each run.
	Progress func(caseIndex, cases, run int, name string)
}

// An External case is measured outside Go code, by its own clock (the C++
// baselines): Measure makes n round trips and reports how long they took,
// in nanoseconds and in time-stamp-counter ticks.
type External struct {
	Name    string
	Group   Group
	Doc     string
	Measure func(n int64) (ns, ticks int64, err error)
}

func (o *Options) defaults() {
	if o.Count <= 0 {
		o.Count = 5
	}
	if o.Duration <= 0 {
		o.Duration = 100 * time.Millisecond
	}
}

// Run measures the Go cases and opts.External. The runs are interleaved:
// each of Count rounds runs every case once, so that a ratio between two
// cases compares runs taken close together, not minutes apart on a machine
// whose speed drifts. An external case that fails is left out, with a note
// saying why.
func Run(opts Options) (results []Result, notes []string) {
	// Run measures on a goroutine of its own: a deferred call pending on
	// the caller's goroutine (one that the compiler could not open-code)
	// would put every ctx.Switch on its slow path (docs/design.md,
	// section 2).
	done := make(chan struct{})
	go func() {
		results, notes = run(opts)
		close(done) // not deferred, for the same reason
	}()
	<-done
	return results, notes
}

func run(opts Options) (results []Result, notes []string) {
	opts.defaults()
	matches := func(name string) bool { return opts.Match == nil || opts.Match.MatchString(name) }
	var cases []Case
	for _, c := range Cases() {
		if matches(c.Name) {
			cases = append(cases, c)
		}
	}
	var ext []External
	for _, e := range opts.External {
		if matches(e.Name) {
			ext = append(ext, e)
		}
	}
	// Each run measures a case prepared afresh: a new coroutine, with new
	// stacks and records. How fast one coroutine switches can depend on
	// where its memory fell, for as long as it lives (docs/design.md,
	// section 8), so each median is taken over placements as well as over
	// moments. The one deferred call ends whatever case is prepared when a
	// run panics: a defer per case would leave a record on the goroutine,
	// and every ctx.Switch would then move the defer chain
	// (docs/design.md, section 2).
	var pending func()
	defer func() {
		if pending != nil {
			pending()
		}
	}()
	prepare := func(c Case) func(int) {
		run, done := c.Prepare()
		pending = done
		run(100) // warm up
		return run
	}
	finish := func() {
		pending()
		pending = nil
	}
	sizes := make([]int, len(cases))
	out := make([]Result, len(cases))
	for i, c := range cases {
		run := prepare(c)
		n, _ := calibrate(func(n int64) (time.Duration, error) {
			start := time.Now()
			run(int(n))
			return time.Since(start), nil
		}, 100, 1<<30, opts.Duration)
		finish()
		sizes[i] = int(n)
		out[i] = Result{Name: c.Name, Group: c.Group, Doc: c.Doc}
	}
	extSizes := make([]int64, len(ext))
	extOut := make([]Result, len(ext))
	failed := make([]error, len(ext))
	for i, e := range ext {
		extSizes[i], failed[i] = calibrate(func(n int64) (time.Duration, error) {
			ns, _, err := e.Measure(n)
			return time.Duration(ns), err
		}, 10_000, 1<<32, opts.Duration)
		extOut[i] = Result{Name: e.Name, Group: e.Group, Doc: e.Doc}
	}
	all := len(cases) + len(ext)
	for k := 0; k < opts.Count; k++ {
		for i, c := range cases {
			if opts.Progress != nil {
				opts.Progress(i, all, k, c.Name)
			}
			n, run := sizes[i], prepare(c)
			start, t0 := time.Now(), ticks()
			run(n)
			t1, d := ticks(), time.Since(start)
			finish()
			out[i].Samples = append(out[i].Samples, float64(d.Nanoseconds())/float64(n))
			out[i].TSCTicks = append(out[i].TSCTicks, float64(t1-t0)/float64(n))
		}
		for i, e := range ext {
			if opts.Progress != nil {
				opts.Progress(len(cases)+i, all, k, e.Name)
			}
			if failed[i] != nil {
				continue
			}
			n := extSizes[i]
			ns, t, err := e.Measure(n)
			if err != nil {
				failed[i] = err
				continue
			}
			extOut[i].Samples = append(extOut[i].Samples, float64(ns)/float64(n))
			extOut[i].TSCTicks = append(extOut[i].TSCTicks, float64(t)/float64(n))
		}
	}
	for i, err := range failed {
		if err != nil {
			notes = append(notes, ext[i].Name+": "+err.Error())
		} else {
			out = append(out, extOut[i])
		}
	}
	for i := range out {
		out[i].NsPerRoundTrip = median(out[i].Samples)
	}
	return out, notes
}

// calibrate returns how many round trips take about d, timing measure on
// n, 4n, 16n... round trips until one run takes a tenth of d or n reaches
// limit.
func calibrate(measure func(n int64) (time.Duration, error), n, limit int64, d time.Duration) (int64, error) {
	for ; ; n *= 4 {
		el, err := measure(n)
		if err != nil {
			return 0, err
		}
		if el >= d/10 || n >= limit {
			return max(1, int64(float64(n)*float64(d)/float64(max(el, time.Microsecond)))), nil
		}
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
