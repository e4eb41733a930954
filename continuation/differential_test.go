package continuation_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/corokit/corokit/continuation"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEnginesAgree runs random programs of nested continuations (three
// levels, each body yielding to its own scope or through inner ones to
// outer scopes, running its child, pinning, asking for Current) on both
// engines, and requires the same trace from each: the Raw engine's
// one-switch chain yields and the Goroutine engine's loops must be
// indistinguishable from the outside.
func TestEnginesAgree(t *testing.T) {
	enginesAgree(t, 1, 2000)
}

// TestEnginesAgreeUnderGC: the same with freed memory clobbered and the
// collector running all along (it found Current waiting for the collector
// inside a Region).
func TestEnginesAgreeUnderGC(t *testing.T) {
	if !testproc.IsChild(t) {
		r := testproc.Run(t, "GODEBUG=clobberfree=1")
		require.NoError(t, r.Err, r.Output)
		assert.Contains(t, r.Output, "agree")
		return
	}
	cycles, stop := testproc.GCLoop()
	defer stop()
	seeds := uint64(0)
	for seeds < 2000 || cycles() < 30 { // until the collector has run 30 times
		require.Less(t, seeds, uint64(1_000_000), "the collector did not run")
		enginesAgree(t, seeds+1, seeds+100)
		seeds += 100
	}
	fmt.Printf("engines agree under the collector: %d programs, %d GC cycles\n", seeds, cycles())
}

func enginesAgree(t *testing.T, first, last uint64) {
	for seed := first; seed <= last; seed++ {
		var traces [2][]string
		for i, e := range engines {
			e.run(func() { traces[i] = runProgram(seed, e) })
		}
		require.Equal(t, traces[0], traces[1], "seed %d: goroutine engine (expected) against raw (actual)", seed)
		require.NotEmpty(t, traces[0])
	}
}

const levels = 3

// runProgram runs the program that seed describes and returns its trace.
func runProgram(seed uint64, e engine) []string {
	rng := rand.New(rand.NewPCG(seed, 0))
	var scopes [levels]*continuation.Scope
	for l := range scopes {
		scopes[l] = continuation.NewScope(fmt.Sprint("S", l))
	}
	var trace []string
	log := func(format string, args ...any) { trace = append(trace, fmt.Sprintf(format, args...)) }
	var current [levels]*continuation.Continuation // each level's newest continuation

	// Each body's script is drawn when the continuation is made, so both
	// engines see the same scripts in the same order.
	var newLevel func(l, id int) *continuation.Continuation
	newLevel = func(l, id int) *continuation.Continuation {
		steps := 1 + rng.IntN(8)
		script := make([]int, steps)
		for i := range script {
			script[i] = rng.IntN(11)
		}
		name := fmt.Sprintf("L%d#%d", l, id)
		c := continuation.New(scopes[l], func() {
			children := 0
			for step, op := range script {
				switch {
				case op < 4: // yield to a scope at this level or further out
					to := rng.IntN(l + 1)
					ok := continuation.Yield(scopes[to])
					log("%s step %d: yield to S%d returned %v", name, step, to, ok)
				case op < 7 && l+1 < levels: // run the child, making one when needed
					if current[l+1] == nil || current[l+1].IsDone() {
						children++
						current[l+1] = newLevel(l+1, children)
					}
					current[l+1].Run()
					log("%s step %d: child run returned (done %v)", name, step, current[l+1].IsDone())
				case op < 8: // a pinned yield
					continuation.Pin()
					ok := continuation.Yield(scopes[rng.IntN(l+1)])
					continuation.Unpin()
					log("%s step %d: pinned yield returned %v", name, step, ok)
				case op == 10 && l+1 < levels && current[l+1] != nil: // close the child, wherever it is
					err := current[l+1].Close()
					log("%s step %d: close child: %v (done %v)", name, step, err, current[l+1].IsDone())
				default: // who is mounted, seen from here
					for j := 0; j <= l; j++ {
						if continuation.Current(scopes[j]) != current[j] {
							log("%s step %d: Current(S%d) is wrong", name, step, j)
						}
					}
					log("%s step %d: Current checked", name, step)
				}
			}
		}, e.opts...)
		c.OnPinned(func(r continuation.PinnedReason) { log("%s pinned: %v", name, r) })
		return c
	}

	current[0] = newLevel(0, 0)
	for runs := 0; !current[0].IsDone(); runs++ {
		if runs == 1000 {
			log("gave up")
			break
		}
		current[0].Run()
		log("main: run returned (done %v)", current[0].IsDone())
	}
	// Close what is left suspended, innermost first (a Raw Region must end
	// with none).
	for l := levels - 1; l >= 0; l-- {
		if c := current[l]; c != nil && !c.IsDone() {
			log("close L%d: %v", l, c.Close())
		}
	}
	return trace
}
