package main

import (
	"bytes"
	"fmt"
	"strings"
)

// diff shows how new differs from old, line by line: lines only in old
// start with "-", lines only in new with "+", and up to two unchanged
// lines around each change are shown for context.
func diff(old, new []byte) string {
	a, b := lines(old), lines(new)
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:]. The files are a few hundred lines at most.
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var script []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			script = append(script, line{' ', a[i]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			script = append(script, line{'-', a[i]})
			i++
		default:
			script = append(script, line{'+', b[j]})
			j++
		}
	}
	const context = 2
	var out strings.Builder
	lastShown := -1
	for k, l := range script {
		near := false
		for d := max(0, k-context); d <= min(len(script)-1, k+context); d++ {
			near = near || script[d].op != ' '
		}
		if !near {
			continue
		}
		if lastShown >= 0 && k > lastShown+1 {
			out.WriteString("   ...\n")
		}
		fmt.Fprintf(&out, " %c %s\n", l.op, l.text)
		lastShown = k
	}
	return out.String()
}

func lines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(bytes.TrimSuffix(b, []byte("\n"))), "\n")
}
