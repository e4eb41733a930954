package gabi

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProbeHandoff(t *testing.T) {
	g, err := ProbeHandoff()
	require.NoError(t, err)
	t.Logf("trace.enabled at %p (%d), goroutineProfile.active at %p (%d)", g.Trace, *g.Trace, g.Profile, *g.Profile)
}
