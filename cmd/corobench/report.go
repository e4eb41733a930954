package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/corokit/corokit/bench"
)

// Report is the document corobench -json writes, for collecting machines
// and for corobench compare. Its fields:
//
//	cpu                the processor
//	  vendor           CPUID's vendor string (arm64: "arm64")
//	  brand            CPUID's brand string ("" where the CPU has none)
//	  family, model, stepping
//	  logical_cores, physical_cores
//	  l1d_bytes, l1i_bytes, l2_bytes, l3_bytes   cache sizes, 0 if unknown
//	  invariant_tsc    the tick counter runs at a constant rate (amd64: the
//	                   kernel's constant_tsc and nonstop_tsc; arm64: always)
//	  cet_shadow_stack, cet_ibt   CET support (amd64)
//	  hypervisor       the hypervisor's vendor string; omitted on bare metal
//	go                 the Go version
//	os                 kernel (uname), goos, goarch
//	gomaxprocs         GOMAXPROCS during the run
//	tsc_hz             the measured frequency of the tick counter (TSC or
//	                   generic timer), in ticks per second
//	count              runs per case
//	when               when the run started (RFC 3339, UTC)
//	setup[]            what about the run changes the figures beyond the
//	                   machine (e.g. a -race build); omitted if nothing
//	cases[]            one per case that ran, in the order of the table
//	  name             the case (README.md says what each measures)
//	  group            who implements it: corokit, Go runtime, OS threads, C++
//	  doc              one line on what a round trip is
//	  ns_per_round_trip   the median of samples
//	  samples          ns per round trip, one per run
//	  tsc_ticks        counter ticks per round trip, one per run
//	notes[]            cases that could not run and why, and anything that
//	                   could not be found out; omitted if none
type Report struct {
	CPU        CPU            `json:"cpu"`
	Go         string         `json:"go"`
	OS         OS             `json:"os"`
	GOMAXPROCS int            `json:"gomaxprocs"`
	TSCHz      float64        `json:"tsc_hz"`
	Count      int            `json:"count"`
	When       time.Time      `json:"when"`
	Setup      []string       `json:"setup,omitempty"`
	Cases      []bench.Result `json:"cases"`
	Notes      []string       `json:"notes,omitempty"`
}

func (r *Report) find(name string) *bench.Result {
	for i := range r.Cases {
		if r.Cases[i].Name == name {
			return &r.Cases[i]
		}
	}
	return nil
}

func (r *Report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// readReport reads a document corobench -json wrote, and refuses one that
// could not have been: no cases, a case without a name or twice, a figure
// that is not a positive number.
func readReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError{err}
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, badInput("%s: not a corobench -json report: %v", path, err)
	}
	if len(r.Cases) == 0 {
		return nil, badInput("%s: a corobench report with no cases", path)
	}
	seen := map[string]bool{}
	for i, c := range r.Cases {
		switch {
		case c.Name == "":
			return nil, badInput("%s: case %d has no name", path, i+1)
		case seen[c.Name]:
			return nil, badInput("%s: case %s appears twice", path, c.Name)
		case !positive(c.NsPerRoundTrip):
			return nil, badInput("%s: case %s: ns_per_round_trip %v: want a positive number", path, c.Name, c.NsPerRoundTrip)
		case len(c.Samples) == 0:
			return nil, badInput("%s: case %s has no samples", path, c.Name)
		}
		seen[c.Name] = true
		for _, v := range c.Samples {
			if !positive(v) {
				return nil, badInput("%s: case %s: sample %v: want a positive number", path, c.Name, v)
			}
		}
	}
	return &r, nil
}

func positive(v float64) bool { return v > 0 && !math.IsInf(v, 1) } // false for NaN too

func kib(n int) string {
	if n <= 0 {
		return "?"
	}
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

func (r *Report) writeHeader(w io.Writer) {
	c := r.CPU
	fmt.Fprintf(w, "CPU     %s (%s, family %d model %d stepping %d)\n", c.Brand, c.Vendor, c.Family, c.Model, c.Stepping)
	fmt.Fprintf(w, "        %d logical / %d physical cores; L1d %s, L1i %s, L2 %s, L3 %s\n",
		c.LogicalCores, c.PhysicalCores, kib(c.L1D), kib(c.L1I), kib(c.L2), kib(c.L3))
	fmt.Fprintf(w, "        invariant %s: %s; CET shadow stack: %v, IBT: %v", tickName(), yesNo(bool(c.InvariantTSC)), yesNo(c.CETShadow), yesNo(c.CETIBT))
	if c.Hypervisor != "" {
		fmt.Fprintf(w, "; hypervisor: %s", c.Hypervisor)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "System  %s, %s/%s, %s, GOMAXPROCS=%d\n", r.OS.Kernel, r.OS.GOOS, r.OS.GOARCH, r.Go, r.GOMAXPROCS)
	fmt.Fprintf(w, "Ticks   %s at %.3f GHz (measured): counter ticks, not core cycles\n", tickName(), r.TSCHz/1e9)
	for _, line := range r.Setup {
		fmt.Fprintf(w, "Setup   %s\n", line)
	}
	fmt.Fprintf(w, "Runs    %d per case; a round trip is one switch there and one back\n\n", r.Count)
}

func tickName() string {
	if runtime.GOARCH == "arm64" {
		return "CNTVCT_EL0"
	}
	return "TSC"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (r *Report) writeTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\tns/round trip\tspread (min-max)\tticks\tround trips/s\tvs raw\tvs floor\t")
	raw, floor := r.find("raw"), r.find("floor")
	ratio := func(c bench.Result, base *bench.Result) string {
		if base == nil || base.NsPerRoundTrip <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", c.NsPerRoundTrip/base.NsPerRoundTrip)
	}
	for _, c := range r.Cases {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f-%.1f\t%.0f\t%s\t%s\t%s\t\n", c.Name, c.NsPerRoundTrip, c.Min(), c.Max(),
			c.MedianTicks(), rate(1e9/c.NsPerRoundTrip), ratio(c, raw), ratio(c, floor))
	}
	tw.Flush()
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

func rate(perSec float64) string {
	switch {
	case perSec >= 1e9:
		return fmt.Sprintf("%.2fG", perSec/1e9)
	case perSec >= 1e6:
		return fmt.Sprintf("%.1fM", perSec/1e6)
	case perSec >= 1e3:
		return fmt.Sprintf("%.1fk", perSec/1e3)
	}
	return fmt.Sprintf("%.0f", perSec)
}

// progress draws a one-line bar on a terminal.
type progress struct {
	w     io.Writer
	on    bool
	total int
	done  int
}

func (p *progress) step(name string) {
	if !p.on {
		return
	}
	const width = 30
	filled := width * p.done / max(p.total, 1)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %-24s", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), p.done, p.total, name)
	p.done++
}

func (p *progress) finish() {
	if p.on {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 70))
	}
}
