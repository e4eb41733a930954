package bench_test

import (
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
	results := bench.Run(bench.Options{
		Count: 3, Duration: 2 * time.Millisecond, Match: regexp.MustCompile(`^(ctx|goroutine)$`),
		Progress: func(i, n, run int, name string) {
			progress = append(progress, fmt.Sprintf("%d/%d %s #%d", i+1, n, name, run))
		},
	})
	require.Len(t, results, 2)
	for _, r := range results {
		require.Len(t, r.Samples, 3, r.Name)
		require.Len(t, r.TSCTicks, 3, r.Name)
		assert.True(t, r.Min() <= r.NsPerRoundTrip && r.NsPerRoundTrip <= r.Max(), r.String())
		assert.Positive(t, r.MedianTicks(), r.Name)
	}
	assert.Equal(t, "1/2 ctx #0", progress[0])
	assert.Len(t, progress, 6)
	// ctx switches without the scheduler: it cannot be slower than a
	// goroutine handoff through it.
	assert.Less(t, results[0].NsPerRoundTrip, results[1].NsPerRoundTrip)
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
		r, err := bench.RunCxx(bin, c, bench.Options{Count: 2, Duration: 2 * time.Millisecond})
		require.NoError(t, err, c.Name)
		require.Len(t, r.Samples, 2)
		assert.Positive(t, r.NsPerRoundTrip, c.Name)
	}
}

func TestTSCHz(t *testing.T) {
	hz := bench.TSCHz(20 * time.Millisecond)
	assert.Greater(t, hz, 1e6, "a counter of at least 1 MHz")
}
