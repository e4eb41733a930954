package main

import (
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
)

// compare prints the cases of several reports side by side, each column's
// ratio against the first report.
func compare(w io.Writer, paths []string) error {
	if len(paths) < 2 {
		return badInput("compare needs two or more reports made with corobench -json (see corobench help compare)")
	}
	var reports []*Report
	for _, p := range paths {
		r, err := readReport(p)
		if err != nil {
			return err
		}
		reports = append(reports, r)
	}
	for i, r := range reports {
		fmt.Fprintf(w, "[%d] %s: %s, %s, %s\n", i+1, filepath.Base(paths[i]), r.CPU.Brand, r.OS.GOARCH, r.Go)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "case\t")
	for i := range reports {
		if i == 0 {
			fmt.Fprintf(tw, "[1] ns\t")
		} else {
			fmt.Fprintf(tw, "[%d] ns\tvs [1]\t", i+1)
		}
	}
	fmt.Fprintln(tw)
	seen := map[string]bool{}
	for _, r := range reports {
		for _, c := range r.Cases {
			if seen[c.Name] {
				continue
			}
			seen[c.Name] = true
			fmt.Fprintf(tw, "%s\t", c.Name)
			base := reports[0].find(c.Name)
			for i, other := range reports {
				o := other.find(c.Name)
				switch {
				case o == nil:
					fmt.Fprint(tw, "-\t")
				default:
					fmt.Fprintf(tw, "%.1f\t", o.NsPerRoundTrip)
				}
				if i == 0 {
					continue
				}
				if o != nil && base != nil && base.NsPerRoundTrip > 0 {
					fmt.Fprintf(tw, "%.2fx\t", o.NsPerRoundTrip/base.NsPerRoundTrip)
				} else {
					fmt.Fprint(tw, "-\t")
				}
			}
			fmt.Fprintln(tw)
		}
	}
	return tw.Flush()
}
