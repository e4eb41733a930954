//go:build linux && (amd64 || arm64)

package gabi

import (
	"io"
	"runtime/pprof"
	"runtime/trace"
	"testing"
	"time"

	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/require"
)

// TestProbeHandoff checks that the two bytes found in runtime.coroswitch_m
// are what corokit takes them for: one is set exactly while the execution
// tracer runs, the other while a goroutine profile is being taken.
func TestProbeHandoff(t *testing.T) {
	g, err := ProbeHandoff()
	require.NoError(t, err)
	require.Zero(t, *g.Trace, "runtime.trace.enabled: no trace yet")
	require.Zero(t, *g.Profile, "runtime.goroutineProfile.active: no profile yet")

	require.NoError(t, trace.Start(io.Discard))
	during := *g.Trace
	trace.Stop()
	require.Equal(t, byte(1), during, "runtime.trace.enabled is set while tracing (%s)", GoRelease)
	require.Zero(t, *g.Trace, "runtime.trace.enabled is clear after tracing (%s)", GoRelease)

	// The profile records goroutines while the world runs: watch the flag
	// from another goroutine meanwhile.
	defer testproc.Park(20_000)()
	seen := make(chan bool)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				seen <- false
				return
			default:
				if *g.Profile == 1 {
					seen <- true
					return
				}
			}
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	var ok bool
	for done := false; !done; {
		pprof.Lookup("goroutine").WriteTo(io.Discard, 0)
		select {
		case ok = <-seen:
			done = true
		default:
			if time.Now().After(deadline) {
				close(stop)
				ok, done = <-seen, true
			}
		}
	}
	require.True(t, ok, "runtime.goroutineProfile.active is set while a goroutine profile runs (%s)", GoRelease)
	require.Zero(t, *g.Profile, "runtime.goroutineProfile.active is clear after the profile (%s)", GoRelease)
}
