// Package prodcons is the workload of luacoro's benchmarks: a producer
// coroutine made by coroutine.wrap hands values to a consumer in the main
// thread, one resume and one yield per value, on stock gopher-lua and on
// luacoro's two engines.
package prodcons

import (
	"fmt"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/examples/luacoro"
	lua "github.com/yuin/gopher-lua"
)

// script passes n values from a wrap producer to the main thread.
const script = `
	local n = ...
	local sum = 0
	for v in coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end) do
		sum = sum + v
	end
	assert(sum == n * (n + 1) / 2)
`

// Chunk is how many values one run of the script passes. Every case runs
// the same chunks, so that each makes the same number of coroutines; the
// Raw engine runs each chunk in a Region of its own (a Region holds up the
// collector and every stop-the-world, so it must stay short).
const Chunk = 10_000

// Case is one way of running the workload.
type Case struct {
	Name, Doc string
	// New returns a function that passes n values, and one that releases
	// what New made.
	New func() (run func(n int), done func())
}

// Cases are stock gopher-lua and luacoro on each engine, stock first.
func Cases() []Case {
	return []Case{
		{"stock", "gopher-lua's own coroutine library", func() (func(int), func()) { return prepare(false, nil) }},
		{"goroutine", "luacoro, Goroutine engine", func() (func(int), func()) { return prepare(false, []coro.Option{}) }},
		{"raw", "luacoro, Raw engine (a Region per chunk)", func() (func(int), func()) {
			return prepare(true, []coro.Option{coro.WithEngine(coro.Raw)})
		}},
	}
}

// prepare makes a Lua state, with luacoro unless opts is nil.
func prepare(inRegions bool, opts []coro.Option) (func(int), func()) {
	L := lua.NewState()
	if opts != nil {
		luacoro.Open(L, opts...)
	}
	fn, err := L.LoadString(script)
	if err != nil {
		panic(err)
	}
	chunk := func(k int) {
		L.Push(fn)
		L.Push(lua.LNumber(k))
		if err := L.PCall(1, 0, nil); err != nil {
			panic(fmt.Sprint("prodcons: ", err))
		}
	}
	return func(n int) {
		for n > 0 {
			k := min(n, Chunk)
			if inRegions {
				coro.Region(func() { chunk(k) })
			} else {
				chunk(k)
			}
			n -= k
		}
	}, L.Close
}
