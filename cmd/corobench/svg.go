package main

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"

	"github.com/corokit/corokit/bench"
)

// groupColors colour the bars by who implements the switch; a group not
// listed here (a case added later with a group of its own) is grey.
var groupColors = []struct {
	group bench.Group
	color string
}{
	{bench.Corokit, "#e45756"},
	{bench.GoRuntime, "#4c78a8"},
	{bench.OSThreads, "#72b7b2"},
	{bench.Cxx, "#9d755d"},
	{bench.Floor, "#bab0ac"},
}

const otherColor = "#999999"

func groupColor(g bench.Group) string {
	for _, c := range groupColors {
		if c.group == g {
			return c.color
		}
	}
	return otherColor
}

// svg draws one horizontal bar per case, coloured by group, on a log scale
// when the cases span more than a factor of 20 (a thread handoff next to a
// raw switch), with the median in ns at the end of each bar.
func (r *Report) svg() []byte {
	const (
		left, right, top, rowH, barW = 190, 90, 56, 26, 520
	)
	lo, hi := math.Inf(1), 0.0
	for _, c := range r.Cases {
		lo, hi = math.Min(lo, c.NsPerRoundTrip), math.Max(hi, c.NsPerRoundTrip)
	}
	logScale := hi/lo > 20
	var ticks []float64
	var scale func(v float64) float64
	if logScale {
		a, b := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		for e := a; e <= b; e++ {
			ticks = append(ticks, math.Pow(10, e))
		}
		scale = func(v float64) float64 { return barW * (math.Log10(v) - a + 0.15) / (b - a + 0.15) }
	} else {
		// From 0 to a round number at or above the longest bar, in steps
		// of 1, 2 or 5 times a power of ten: ticks even for one case.
		step := niceStep(hi / 4)
		end := math.Ceil(hi/step) * step
		for v := 0.0; v <= end*(1+1e-9); v += step {
			ticks = append(ticks, v)
		}
		scale = func(v float64) float64 { return barW * v / end }
	}
	height := top + rowH*len(r.Cases) + 58
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="13">`+"\n", left+barW+right, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	title := fmt.Sprintf("Context switch round trip, ns (%s scale, median of %d)", map[bool]string{true: "log", false: "linear"}[logScale], r.Count)
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="10" y="40" fill="#555">%s · %s · %s</text>`+"\n", html.EscapeString(r.CPU.Brand), html.EscapeString(r.OS.Kernel), html.EscapeString(r.Go))
	for _, t := range ticks {
		x := left + scale(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x, top-6, x, height-48)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#777" text-anchor="middle">%g</text>`+"\n", x, height-32, t)
	}
	var groups []bench.Group // in the order they first appear
	for i, c := range r.Cases {
		if !slices.Contains(groups, c.Group) {
			groups = append(groups, c.Group)
		}
		y := top + i*rowH
		wBar := math.Max(scale(c.NsPerRoundTrip), 1)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+16, html.EscapeString(c.Name))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
			left, y+3, wBar, rowH-8, groupColor(c.Group), html.EscapeString(c.Doc))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%.1f</text>`+"\n", float64(left)+wBar+6, y+16, c.NsPerRoundTrip)
	}
	for i, g := range groups {
		x := left + i*130
		label := string(g)
		if label == "" {
			label = "other"
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" fill="#555">%s</text>`+"\n",
			x, height-12, groupColor(g), x+16, height-2, html.EscapeString(label))
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}
