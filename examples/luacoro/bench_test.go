package luacoro_test

import (
	"testing"

	"github.com/corokit/corokit/examples/luacoro/internal/prodcons"
)

// BenchmarkProducerConsumer: ns/op is one value passed from a wrap
// producer to the main thread (a resume and a yield). go test -count N
// runs each case N times in a row, minutes apart on a busy machine:
// compare cases with cmd/luabench, which interleaves them.
func BenchmarkProducerConsumer(b *testing.B) {
	for _, c := range prodcons.Cases() {
		b.Run(c.Name, func(b *testing.B) {
			run, done := c.New()
			defer done()
			b.ReportAllocs()
			b.ResetTimer()
			run(b.N)
		})
	}
}
