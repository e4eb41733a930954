package bench_test

import (
	"errors"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/corokit/corokit/bench"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// BenchmarkRoundTrip: ns/op is one round trip, a switch there and back.
func BenchmarkRoundTrip(b *testing.B) {
	for _, c := range bench.Cases() {
		b.Run(c.Name, func(b *testing.B) {
			run, done := c.Prepare()
			defer done()
			run(1000) // warm up
			b.ResetTimer()
			run(b.N)
		})
	}
}

func TestRun(t *testing.T) {
	var progress []string
	failing := bench.External{Name: "broken", Measure: func(int64) (int64, int64, error) { return 0, 0, errors.New("no such tool") }}
	results, notes := bench.Run(bench.Options{
		Count: 3, Duration: 2 * time.Millisecond, Match: regexp.MustCompile(`^(ctx|goroutine|broken)$`),
		External: []bench.External{failing},
		Progress: func(i, n, run int, name string) {
			progress = append(progress, fmt.Sprintf("%d/%d %s #%d", i+1, n, name, run))
		},
	})
	require.Len(t, results, 2)
	assert.Equal(t, []string{"broken: no such tool"}, notes)
	assert.Equal(t, "ctx", results[0].Name)
	assert.Equal(t, "goroutine", results[1].Name)
	for _, r := range results {
		assert.Equal(t, bench.Corokit, r.Group, r.Name)
		require.Len(t, r.Samples, 3, r.Name)
		require.Len(t, r.TSCTicks, 3, r.Name)
		assert.True(t, r.Min() <= r.NsPerRoundTrip && r.NsPerRoundTrip <= r.Max(), r.String())
		assert.Positive(t, r.MedianTicks(), r.Name)
	}
	assert.Equal(t, "1/3 ctx #0", progress[0])
	assert.Equal(t, "3/3 broken #2", progress[8])
	assert.Len(t, progress, 9)
	// No comparison of the two cases' figures: how fast a case runs is
	// for the benchmarks and corobench to show, not for a test to decide.
}

// Every case says who implements it, for the chart's colours: the
// Goroutine-engine cases are corokit's, though the runtime's handoff is
// under them.
func TestCaseGroups(t *testing.T) {
	groups := map[string]bench.Group{}
	for _, c := range bench.Cases() {
		assert.NotEmpty(t, c.Group, c.Name)
		assert.NotEmpty(t, c.Doc, c.Name)
		assert.NotContains(t, groups, c.Name, "two cases named %s", c.Name)
		groups[c.Name] = c.Group
	}
	for name, want := range map[string]bench.Group{
		"ctx": bench.Corokit, "raw": bench.Corokit, "continuation-raw": bench.Corokit,
		"goroutine": bench.Corokit, "continuation-goroutine": bench.Corokit,
		"iterpull": bench.GoRuntime, "chan": bench.GoRuntime, "gosched": bench.GoRuntime,
		"thread": bench.OSThreads, "floor": bench.Floor, "floor-handoff": bench.Floor,
	} {
		assert.Equal(t, want, groups[name], name)
	}
	for _, c := range bench.CxxCases {
		assert.Equal(t, bench.Cxx, c.External("").Group, c.Name)
	}
}

// Without g++ every C++ case says so, rather than being silently absent.
func TestCxxMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, c := range bench.CxxCases {
		assert.Contains(t, c.Missing(), "no g++ on PATH", c.Name)
	}
	bin, available, missing, err := bench.BuildCxx(t.TempDir())
	require.NoError(t, err)
	assert.Empty(t, bin)
	assert.Empty(t, available)
	require.Len(t, missing, len(bench.CxxCases))
	for i, c := range bench.CxxCases {
		assert.Equal(t, c.Name+" skipped: no g++ on PATH (apt-get install g++ libboost-context-dev)", missing[i])
	}
}

func TestCxxBaselines(t *testing.T) {
	bin, available, missing, err := bench.BuildCxx(t.TempDir())
	require.NoError(t, err)
	if bin == "" {
		t.Skipf("no C++ compiler: %v", missing) // .ci/run installs g++, so CI runs this
	}
	require.True(t, available["glibc-swapcontext"])
	for _, c := range bench.CxxCases {
		if !available[c.Name] {
			t.Logf("%s not built: %v", c.Name, missing)
			continue
		}
		results, notes := bench.Run(bench.Options{Count: 2, Duration: 2 * time.Millisecond,
			Match: regexp.MustCompile("^" + c.Name + "$"), External: []bench.External{c.External(bin)}})
		require.Empty(t, notes, c.Name)
		require.Len(t, results, 1, c.Name) // only the C++ case matched
		r := results[0]
		require.Len(t, r.Samples, 2)
		assert.Positive(t, r.NsPerRoundTrip, c.Name)
		assert.Positive(t, r.MedianTicks(), c.Name)
	}
}

func TestTSCHz(t *testing.T) {
	hz := bench.TSCHz(20 * time.Millisecond)
	assert.Greater(t, hz, 1e6, "a counter of at least 1 MHz")
}
