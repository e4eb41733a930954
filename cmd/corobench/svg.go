package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// writeSVG draws one horizontal bar per case, on a log scale when the
// cases span more than a factor of 20 (a thread handoff next to a raw
// switch), with the median in ns at the end of each bar.
func (r *Report) writeSVG(w io.Writer) error {
	const (
		left, right, top, rowH, barW = 190, 90, 56, 26, 520
	)
	lo, hi := math.Inf(1), 0.0
	for _, c := range r.Cases {
		lo, hi = math.Min(lo, c.NsPerRoundTrip), math.Max(hi, c.NsPerRoundTrip)
	}
	logScale := hi/lo > 20
	scale := func(v float64) float64 {
		if logScale {
			a, b := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
			return barW * (math.Log10(v) - a + 0.15) / (b - a + 0.15)
		}
		return barW * v / hi
	}
	height := top + rowH*len(r.Cases) + 58
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="13">`+"\n", left+barW+right, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	title := fmt.Sprintf("Context switch round trip, ns (%s scale, median of %d)", map[bool]string{true: "log", false: "linear"}[logScale], r.Count)
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="10" y="40" fill="#555">%s · %s · %s</text>`+"\n", html.EscapeString(r.CPU.Brand), html.EscapeString(r.OS.Kernel), html.EscapeString(r.Go))
	if logScale {
		for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
			x := left + scale(math.Pow(10, e))
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x, top-6, x, height-48)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#777" text-anchor="middle">%g</text>`+"\n", x, height-32, math.Pow(10, e))
		}
	}
	for i, c := range r.Cases {
		y := top + i*rowH
		color := "#4c78a8"
		switch {
		case strings.HasPrefix(c.Name, "boost") || strings.HasPrefix(c.Name, "glibc"):
			color = "#9d755d" // C++ baselines
		case c.Name == "raw" || c.Name == "ctx" || c.Name == "continuation-raw":
			color = "#e45756" // corokit's own switch
		case c.Name == "floor":
			color = "#bab0ac" // the machine's floor
		}
		wBar := math.Max(scale(c.NsPerRoundTrip), 1)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+16, html.EscapeString(c.Name))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
			left, y+3, wBar, rowH-8, color, html.EscapeString(c.Doc))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%.1f</text>`+"\n", float64(left)+wBar+6, y+16, c.NsPerRoundTrip)
	}
	for i, l := range []struct{ color, text string }{
		{"#e45756", "corokit's switch"}, {"#4c78a8", "Go runtime"}, {"#9d755d", "C++ baselines"}, {"#bab0ac", "machine floor"},
	} {
		x := left + i*150
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" fill="#555">%s</text>`+"\n",
			x, height-12, l.color, x+16, height-2, l.text)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
