package coro_test

import (
	"runtime"
	"testing"
	"weak"

	"github.com/corokit/corokit/coro"
	"github.com/stretchr/testify/assert"
)

type payload [64]byte

// An ended coroutine lets go of what its body captured and of the last
// value passed in, however it ended, while its handle stays reachable: a
// handle often outlives its coroutine (in a map, in an interpreter's
// thread value), and what the body held must not live as long.
func TestEndedCoroutineLetsGoOfItsBody(t *testing.T) {
	ends := []struct {
		name string
		raw  bool // the Raw engine can end so too (a panic in a Region is fatal)
		end  func(c *coro.Coro[*payload, int], in *payload)
	}{
		{"returned", true, func(c *coro.Coro[*payload, int], in *payload) { c.Resume(in); c.Resume(in) }},
		{"panicked", false, func(c *coro.Coro[*payload, int], in *payload) {
			c.Resume(in)
			assert.Panics(t, func() { c.Resume(in) })
		}},
		{"closed while suspended", true, func(c *coro.Coro[*payload, int], in *payload) { c.Resume(in); c.Close() }},
		{"closed before it started", true, func(c *coro.Coro[*payload, int], in *payload) { c.Close() }},
	}
	forEngines(t, func(t *testing.T, e engine) {
		for _, end := range ends {
			if e.name == "raw" && !end.raw {
				continue
			}
			t.Run(end.name, func(t *testing.T) {
				c, captured, passed := endCoroutine(e, end.name == "panicked", end.end)
				runtime.GC() // one cycle clears the weak pointers of what it finds unreachable
				assert.True(t, c.Done())
				assert.True(t, captured.Value() == nil, "what the body captured outlives it")
				assert.True(t, passed.Value() == nil, "the value passed in last outlives the body")
				runtime.KeepAlive(c)
			})
		}
	})
}

// endCoroutine makes a coroutine whose body captures one payload and is
// passed another, ends it with end, and returns it with weak pointers to
// both payloads: nothing but the coroutine may hold them.
//
//go:noinline
func endCoroutine(e engine, panics bool, end func(c *coro.Coro[*payload, int], in *payload)) (c *coro.Coro[*payload, int], captured, passed weak.Pointer[payload]) {
	own, in := new(payload), new(payload)
	own[0], in[0] = 1, 2
	captured, passed = weak.Make(own), weak.Make(in)
	e.run(func() {
		c = coro.New(func(c *coro.Coro[*payload, int], in *payload) int {
			in = c.Yield(int(own[0]))
			if panics {
				panic("kaput")
			}
			return int(in[0])
		}, e.opts...)
		end(c, in)
	})
	return c, captured, passed
}
