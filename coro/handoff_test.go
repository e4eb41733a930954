package coro_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Goroutine engine's switch (ctx.Handoff: assembly where it may,
// iter.Pull where the runtime must see the switch) under torture. Each
// scenario runs in a child process with freed memory clobbered and the
// garbage collector running in a loop, at GOMAXPROCS 1 and 2; heap objects
// live only in each side's locals, and every scenario checks them.
var handoffTortures = []struct {
	name string
	env  []string
	run  func(t *testing.T) string // what it did, for the log
}{
	{"locals", nil, tortureLocals},
	{"mixed", nil, tortureMixed},
	{"blocking", nil, tortureBlocking},
	{"panics", nil, torturePanics},
	{"deep", nil, tortureDeep},
	{"preemption", nil, torturePreemption},
	{"dumps", nil, tortureDumps},
	{"cpuprofile", nil, tortureCPUProfile},
	{"tracer", nil, tortureTracer},
	{"locked", nil, tortureLocked},
	{"synctest", nil, tortureSynctest},
	{"efence", []string{"GODEBUG=clobberfree=1,efence=1"}, tortureEfence},
}

func TestHandoffTorture(t *testing.T) {
	for _, tc := range handoffTortures {
		for _, procs := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/procs=%d", tc.name, procs), func(t *testing.T) {
				if tc.name == "efence" && testproc.RaceEnabled {
					// The runtime itself crashes there ("split stack overflow",
					// "unexpected signal") with nothing but runtime.AddCleanup
					// and a GC loop, in Go 1.26 and 1.27: docs/design.md.
					t.Skip("-race with GODEBUG=efence=1 crashes the Go runtime without corokit (docs/design.md)")
				}
				if testproc.IsChild(t) {
					_, stop := gcLoop()
					defer stop()
					fmt.Println("intact:", tc.run(t))
					return
				}
				env := append([]string{"GODEBUG=clobberfree=1", "GOMAXPROCS=" + strconv.Itoa(procs)}, tc.env...)
				tracePath := t.TempDir() + "/trace.out"
				if tc.name == "tracer" {
					env = append(env, "COROKIT_TRACE_OUT="+tracePath)
				}
				r := testproc.Run(t, env...)
				require.NoError(t, r.Err, r.Output)
				require.Contains(t, r.Output, "intact:", r.Output)
				t.Log(lastLine(r.Output, "intact:"))
				if tc.name == "tracer" {
					checkTrace(t, r.Output, tracePath)
				}
			})
		}
	}
}

// gcCycles reports the collections of the child's GC loop.
var gcCycles func() int64

func gcLoop() (func() int64, func()) {
	cycles, stop := testproc.GCLoop()
	gcCycles = cycles
	return cycles, stop
}

// untilCollected runs round(i) for i from 0 until at least n rounds have
// run and the collector has finished at least min cycles meanwhile: a
// torture it hardly interrupted would prove little.
func untilCollected(t *testing.T, n int, min int64, round func(i int)) int {
	start := gcCycles()
	i := 0
	for ; i < n || gcCycles()-start < min; i++ {
		require.Less(t, i, 1000*n+1_000_000, "the collector did not run")
		round(i)
	}
	return i
}

// fastOn reports whether switches may take corokit's assembly at all (not
// in a -race build, for instance).
func fastOn() bool { on, _ := ctx.HandoffStatus(); return on }

// listBody keeps a list only its own frame points to, churning it between
// yields; it returns a description of the first damage it finds.
func listBody(c *coro.Coro[int, string], in int) string {
	mine, n := list(8, 1000), 8
	for {
		if b := check(mine, n); b != "" {
			return "coroutine: " + b
		}
		mine, n = churn(mine, n, in)
		in = c.Yield("")
	}
}

// resumeChecked resumes c and checks both sides' lists.
func resumeChecked(t *testing.T, c *coro.Coro[int, string], i int, parents *node) {
	out, alive := c.Resume(i)
	require.True(t, alive, out)
	require.Empty(t, out)
	require.Empty(t, check(parents, 8), "parent")
}

func tortureLocals(t *testing.T) string {
	// Two levels: the body resumes an inner coroutine between its yields.
	c := coro.New(func(c *coro.Coro[int, string], in int) string {
		inner := coro.New(listBody)
		defer inner.Close()
		mine, n := list(8, 2000), 8
		for {
			if out, _ := inner.Resume(in); out != "" {
				return "inner " + out
			}
			if b := check(mine, n); b != "" {
				return "coroutine: " + b
			}
			mine, n = churn(mine, n, in)
			in = c.Yield("")
		}
	})
	defer c.Close()
	parents := list(8, 0)
	n := untilCollected(t, testproc.Scale(300_000), 10, func(i int) { resumeChecked(t, c, i, parents) })
	return fmt.Sprintf("%d round trips over two levels, %d of the outer's switches through iter.Pull, %d GC cycles",
		n, coro.Fallbacks(c), gcCycles())
}

func tortureMixed(t *testing.T) string {
	rng := rand.New(rand.NewPCG(1, 2))
	c := coro.New(func(c *coro.Coro[int, string], in int) string {
		mine, n := list(8, 1000), 8
		for {
			if b := check(mine, n); b != "" {
				return "coroutine: " + b
			}
			mine, n = churn(mine, n, in)
			coro.SetRuntimeSwitch(c, in%3 == 0) // this Yield's way
			in = c.Yield("")
		}
	})
	defer c.Close()
	parents := list(8, 0)
	n := untilCollected(t, testproc.Scale(200_000), 10, func(i int) {
		coro.SetRuntimeSwitch(c, rng.IntN(2) == 0) // this Resume's way
		resumeChecked(t, c, i, parents)
	})
	slow := coro.Fallbacks(c)
	if fastOn() {
		require.Greater(t, slow, n/4, "about half the switches went through iter.Pull")
		require.Less(t, slow, 2*n-n/4, "about half the switches went through the assembly")
	}
	return fmt.Sprintf("%d round trips, %d of %d switches through iter.Pull, %d GC cycles", n, slow, 2*n, gcCycles())
}

func tortureBlocking(t *testing.T) string {
	pong := make(chan int)
	go func() {
		for v := range pong {
			pong <- v + 1
		}
	}()
	defer close(pong)
	var mu sync.Mutex
	holding := make(chan struct{})
	go func() { // keeps the mutex contended
		for {
			select {
			case <-holding:
				return
			default:
			}
			mu.Lock()
			time.Sleep(20 * time.Microsecond)
			mu.Unlock()
		}
	}()
	defer close(holding)
	c := coro.New(func(c *coro.Coro[int, string], in int) string {
		mine, n := list(8, 1000), 8
		for {
			if b := check(mine, n); b != "" {
				return "coroutine: " + b
			}
			switch in % 4 {
			case 0: // a channel receive that waits for another goroutine
				pong <- in
				if <-pong != in+1 {
					return "channel"
				}
			case 1:
				time.Sleep(10 * time.Microsecond)
			case 2:
				if _, err := os.ReadFile("/proc/self/stat"); err != nil {
					return err.Error()
				}
			case 3:
				mu.Lock()
				mu.Unlock()
			}
			mine, n = churn(mine, n, in)
			in = c.Yield("")
		}
	})
	defer c.Close()
	parents := list(8, 0)
	n := untilCollected(t, testproc.Scale(6_000), 10, func(i int) { resumeChecked(t, c, i, parents) })
	return fmt.Sprintf("%d round trips with a channel wait, a sleep, a file read or a contended mutex in each, %d GC cycles", n, gcCycles())
}

// yieldDeferred yields with a deferred call pending in a record on the
// goroutine (a defer in a loop is never open-coded).
func yieldDeferred(c *coro.Coro[int, string], out string) int {
	ran := 0
	for k := 0; k < 1; k++ {
		defer func() { ran++ }()
	}
	return c.Yield(out)
}

func torturePanics(t *testing.T) string {
	c := coro.New(func(c *coro.Coro[int, string], in int) string {
		mine, n := list(8, 1000), 8
		for in >= 0 {
			if b := check(mine, n); b != "" {
				return "coroutine: " + b
			}
			func() { // a panic and its recovery between two yields
				defer func() {
					if r := recover(); r != nil && r != any(in) {
						panic("recovered the wrong value")
					}
				}()
				if in%2 == 0 {
					panic(in)
				}
			}()
			mine, n = churn(mine, n, in)
			in = yieldDeferred(c, "")
		}
		explode(errors.New("the last one")) // carried to the resumer
		return ""
	})
	parents := list(8, 0)
	resume := func(i int) { // the resumer has a deferred call pending too
		for k := 0; k < 1; k++ {
			defer func() {}()
		}
		resumeChecked(t, c, i, parents)
	}
	n := untilCollected(t, testproc.Scale(200_000), 10, resume)
	var pe *coro.PanicError
	func() {
		defer func() { pe, _ = recover().(*coro.PanicError) }()
		c.Resume(-1)
	}()
	require.NotNil(t, pe, "the body's panic comes out of Resume")
	require.EqualError(t, pe.Value.(error), "the last one")
	require.Contains(t, string(pe.Stack), "coro_test.explode", "with the body's stack")
	require.True(t, c.Done())
	return fmt.Sprintf("%d round trips, each a panic or not and a pending deferred call on both sides, then a panic carried to the resumer; %d GC cycles", n, gcCycles())
}

// deep calls f from n frames down, each frame keeping a local list alive
// every 100 frames, and checks the lists on the way back.
//
//go:noinline
func deep(n int, f func()) string {
	var l *node
	if n%100 == 0 {
		l = list(2, n)
	}
	if n == 0 {
		f()
	} else if b := deep(n-1, f); b != "" {
		return b
	}
	if l == nil {
		return ""
	}
	return check(l, 2)
}

func tortureDeep(t *testing.T) string {
	const depth = 10_000
	c := coro.New(func(c *coro.Coro[int, string], in int) string {
		for {
			if in%2 == 0 { // deep, then shallow, so that the GC shrinks the stack again
				if b := deep(depth, func() { in = c.Yield("") }); b != "" {
					return "coroutine: " + b
				}
			} else {
				in = c.Yield("")
			}
		}
	})
	defer c.Close()
	parents := list(8, 0)
	n := untilCollected(t, testproc.Scale(400), 10, func(i int) {
		if i%3 == 0 {
			require.Empty(t, deep(depth, func() { resumeChecked(t, c, i, parents) }), "parent")
		} else {
			resumeChecked(t, c, i, parents)
		}
	})
	return fmt.Sprintf("%d round trips, every other one from %d frames down on either side, %d GC cycles", n, depth, gcCycles())
}

func torturePreemption(t *testing.T) string {
	spin := func(n int) int { // no calls: only an asynchronous preemption stops it
		x := 0
		for i := 0; i < n; i++ {
			x = x*31 + i
		}
		return x
	}
	c := coro.New(func(c *coro.Coro[int, string], in int) string {
		mine, n := list(8, 1000), 8
		for {
			spin(200_000)
			if b := check(mine, n); b != "" {
				return "coroutine: " + b
			}
			mine, n = churn(mine, n, in)
			in = c.Yield("")
		}
	})
	defer c.Close()
	parents := list(8, 0)
	start := gcCycles()
	n := untilCollected(t, testproc.Scale(2_000), 10, func(i int) {
		spin(200_000)
		resumeChecked(t, c, i, parents)
	})
	return fmt.Sprintf("%d round trips with call-free loops on both sides, %d GC cycles meanwhile", n, gcCycles()-start)
}

func tortureDumps(t *testing.T) string {
	stop := make(chan struct{})
	dumped := make(chan int)
	go func() { // dumps every goroutine's stack, and goroutine profiles at each debug level
		k := 0
		buf := make([]byte, 1<<20)
		defer func() { dumped <- k }()
		for ; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			runtime.Stack(buf, true)
			pprof.Lookup("goroutine").WriteTo(io.Discard, k%3)
		}
	}()
	c := coro.New(listBodyNamed)
	defer c.Close()
	parents := list(8, 0)
	n := untilCollected(t, testproc.Scale(150_000), 10, func(i int) { resumeChecked(t, c, i, parents) })
	close(stop)
	dumps := <-dumped
	require.Positive(t, dumps)
	// Suspended, the body shows as a goroutine waiting in a coroutine,
	// stopped in Yield, called from its own frames.
	buf := make([]byte, 1<<20)
	all := string(buf[:runtime.Stack(buf, true)])
	require.Regexp(t, `goroutine \d+ \[coroutine\]:\n(.*\n)*?.*coro_test\.listBodyNamed`, all)
	return fmt.Sprintf("%d round trips while %d stack dumps and goroutine profiles ran, %d GC cycles", n, dumps, gcCycles())
}

//go:noinline
func listBodyNamed(c *coro.Coro[int, string], in int) string { return listBody(c, in) }

func tortureCPUProfile(t *testing.T) string {
	// pprof starts at 100 Hz unless a rate was set first (it then says it
	// cannot change it, and keeps it).
	runtime.SetCPUProfileRate(5000)
	var prof bytes.Buffer
	require.NoError(t, pprof.StartCPUProfile(&prof))
	c := coro.New(listBody)
	defer c.Close()
	parents := list(8, 0)
	n := untilCollected(t, testproc.Scale(400_000), 10, func(i int) { resumeChecked(t, c, i, parents) })
	pprof.StopCPUProfile()
	require.Positive(t, prof.Len())
	return fmt.Sprintf("%d round trips under a 5 kHz CPU profile (%d bytes of profile), %d GC cycles", n, prof.Len(), gcCycles())
}

// goid returns the calling goroutine's id, as runtime.Stack prints it.
func goid() int {
	var buf [64]byte
	id, _ := strconv.Atoi(string(bytes.Fields(buf[:runtime.Stack(buf[:], false)])[1]))
	return id
}

func tortureTracer(t *testing.T) string {
	bodyID := 0
	c := coro.New(func(c *coro.Coro[int, string], in int) string {
		bodyID = goid()
		return listBody(c, in)
	})
	defer c.Close()
	parents := list(8, 0)
	before := untilCollected(t, testproc.Scale(50_000), 5, func(i int) { resumeChecked(t, c, i, parents) })
	fast := coro.Fallbacks(c)
	f, err := os.Create(os.Getenv("COROKIT_TRACE_OUT"))
	require.NoError(t, err)
	require.NoError(t, trace.Start(f)) // mid-run: every switch from now on is the runtime's
	traced := testproc.Scale(10_000)
	for i := 0; i < traced; i++ {
		resumeChecked(t, c, before+i, parents)
	}
	trace.Stop()
	require.NoError(t, f.Close())
	require.Equal(t, 2*traced, coro.Fallbacks(c)-fast, "every switch while tracing went through iter.Pull")
	after := untilCollected(t, testproc.Scale(50_000), 5, func(i int) { resumeChecked(t, c, i, parents) })
	if fastOn() {
		require.Less(t, coro.Fallbacks(c)-fast-2*traced, after, "after the tracer stopped, switches take the assembly again")
	}
	fmt.Printf("traced: resumer %d body %d round trips %d\n", goid(), bodyID, traced)
	return fmt.Sprintf("%d round trips, %d of them traced, %d GC cycles", before+traced+after, traced, gcCycles())
}

// checkTrace parses the child's trace with the toolchain's own parser and
// counts the switches in it: in each traced round trip the resumer wakes
// the body, and the body the resumer. (Other wake-ups, such as from a GC
// assist wait, come from other goroutines.)
func checkTrace(t *testing.T, output, path string) {
	m := regexp.MustCompile(`traced: resumer (\d+) body (\d+) round trips (\d+)`).FindStringSubmatch(output)
	require.NotNil(t, m, output)
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the trace is parsed with the toolchain's `go tool trace`")
	out, err := exec.Command(goTool, "tool", "trace", "-d=parsed", path).CombinedOutput()
	require.NoError(t, err, "go tool trace -d=parsed rejects the trace:\n%s", out)
	wakes := func(by, woken string) int {
		return len(regexp.MustCompile(`(?m)^M=\d+ P=\d+ G=`+by+` StateTransition .* GoID=`+woken+` Waiting->Runnable `).FindAll(out, -1))
	}
	rounds, _ := strconv.Atoi(m[3])
	assert.Equal(t, rounds, wakes(m[1], m[2]), "the resumer woke the body once per traced round trip")
	assert.Equal(t, rounds, wakes(m[2], m[1]), "the body woke the resumer once per traced round trip")
}

func tortureLocked(t *testing.T) string {
	// A coroutine made on a locked thread must be switched on that thread,
	// with the same locks: the runtime's switch checks and carries that;
	// corokit's leaves every such switch to it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c := coro.New(listBody)
	defer c.Close()
	parents := list(8, 0)
	n := untilCollected(t, testproc.Scale(100_000), 5, func(i int) { resumeChecked(t, c, i, parents) })
	require.Equal(t, 2*n, coro.Fallbacks(c), "every switch went through iter.Pull")
	return fmt.Sprintf("%d round trips on a locked thread, all through iter.Pull, %d GC cycles", n, gcCycles())
}

func tortureSynctest(t *testing.T) string {
	var n int
	synctest.Test(t, func(t *testing.T) {
		c := coro.New(listBody)
		defer c.Close()
		parents := list(8, 0)
		n = testproc.Scale(100_000)
		for i := 0; i < n; i++ {
			resumeChecked(t, c, i, parents)
		}
		require.Equal(t, 2*n, coro.Fallbacks(c), "every switch went through iter.Pull")
	})
	return fmt.Sprintf("%d round trips in a synctest bubble, all through iter.Pull, %d GC cycles", n, gcCycles())
}

func tortureEfence(t *testing.T) string {
	// Every allocation on pages of its own, unmapped when freed: a stale
	// pointer into a freed or moved stack faults at once.
	c := coro.New(listBody)
	defer c.Close()
	parents := list(8, 0)
	n := untilCollected(t, testproc.Scale(5_000), 2, func(i int) { resumeChecked(t, c, i, parents) })
	return fmt.Sprintf("%d round trips under efence, %d GC cycles", n, gcCycles())
}
