package bench_test

import (
	"testing"

	"github.com/corokit/corokit/bench"
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
