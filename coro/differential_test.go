package coro_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/corokit/corokit/coro"
	"github.com/stretchr/testify/require"
)

// TestEnginesAgree runs random programs of nested coroutines (three
// levels; each body yields values, resumes its child, closes it, checks
// Done and StackTrace) on both engines and requires the same trace from
// each.
func TestEnginesAgree(t *testing.T) {
	for seed := uint64(1); seed <= 2000; seed++ {
		var traces [2][]string
		for i, e := range engines {
			e.run(func() { traces[i] = coroProgram(seed, e) })
		}
		require.Equal(t, traces[0], traces[1], "seed %d: goroutine engine (expected) against raw (actual)", seed)
	}
}

func coroProgram(seed uint64, e engine) []string {
	const levels = 3
	rng := rand.New(rand.NewPCG(seed, 1))
	var trace []string
	log := func(format string, args ...any) { trace = append(trace, fmt.Sprintf(format, args...)) }
	var current [levels]*coro.Coro[int, int]

	var newLevel func(l, id int) *coro.Coro[int, int]
	newLevel = func(l, id int) *coro.Coro[int, int] {
		script := make([]int, 1+rng.IntN(8))
		for i := range script {
			script[i] = rng.IntN(10)
		}
		name := fmt.Sprintf("L%d#%d", l, id)
		return coro.New(func(c *coro.Coro[int, int], in int) int {
			children := 0
			log("%s starts with %d", name, in)
			for step, op := range script {
				switch {
				case op < 4:
					in = c.Yield(in*10 + step)
					log("%s step %d: resumed with %d", name, step, in)
				case op < 7 && l+1 < levels:
					if current[l+1] == nil || current[l+1].Done() {
						children++
						current[l+1] = newLevel(l+1, children)
					}
					out, alive := current[l+1].Resume(step)
					log("%s step %d: child gave %d, alive %v", name, step, out, alive)
				case op == 7 && l+1 < levels && current[l+1] != nil:
					log("%s step %d: close child: %v, done %v", name, step, current[l+1].Close(), current[l+1].Done())
				case op == 8 && l+1 < levels && current[l+1] != nil:
					suspended := len(current[l+1].StackTrace()) > 0
					log("%s step %d: child suspended %v, done %v", name, step, suspended, current[l+1].Done())
				default:
					log("%s step %d: nothing", name, step)
				}
			}
			return -in
		}, e.opts...)
	}

	current[0] = newLevel(0, 0)
	for i := 0; !current[0].Done(); i++ {
		if i == 1000 {
			log("gave up")
			break
		}
		out, alive := current[0].Resume(i)
		log("main: got %d, alive %v", out, alive)
	}
	for l := levels - 1; l >= 0; l-- {
		if c := current[l]; c != nil && !c.Done() {
			log("close L%d: %v", l, c.Close())
		}
	}
	return trace
}
