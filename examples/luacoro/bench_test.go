package luacoro_test

import (
	"testing"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/examples/luacoro"
	lua "github.com/yuin/gopher-lua"
)

// producerConsumer passes n values from a producer coroutine to the main
// thread. ns/op is one value: one resume and one yield.
const producerConsumer = `
	local n = ...
	local producer = coroutine.create(function()
		for i = 1, n do coroutine.yield(i) end
	end)
	local sum = 0
	for i = 1, n do
		local _, v = coroutine.resume(producer)
		sum = sum + v
	end
	assert(sum == n * (n + 1) / 2)
`

func runScript(b *testing.B, L *lua.LState, n int) {
	fn, err := L.LoadString(producerConsumer)
	if err != nil {
		b.Fatal(err)
	}
	L.Push(fn)
	L.Push(lua.LNumber(n))
	if err := L.PCall(1, 0, nil); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkProducerConsumer(b *testing.B) {
	b.Run("stock", func(b *testing.B) {
		L := lua.NewState()
		defer L.Close()
		runScript(b, L, b.N)
	})
	b.Run("continuation-goroutine", func(b *testing.B) {
		L := lua.NewState()
		defer L.Close()
		luacoro.Open(L)
		runScript(b, L, b.N)
	})
	b.Run("continuation-raw", func(b *testing.B) {
		// One Region per 10,000 values: a region holds up the GC.
		L := lua.NewState()
		defer L.Close()
		lib := luacoro.Open(L, coro.WithEngine(coro.Raw))
		for done := 0; done < b.N; done += 10_000 {
			coro.Region(func() {
				runScript(b, L, min(10_000, b.N-done))
				lib.Close() // the producer is still suspended in its last yield
			})
		}
	})
}
