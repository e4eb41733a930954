//go:build goexperiment.runtimesecret

package coro_test

import (
	"runtime/secret"
	"testing"

	"github.com/corokit/corokit/coro"
	"github.com/stretchr/testify/require"
)

// Inside runtime/secret.Do the runtime erases registers when the goroutine
// switches away (mcall), so that no secret leaks to the next goroutine:
// corokit leaves those switches to it. The body, which does not run inside
// secret.Do, yields in assembly, as the runtime would erase nothing for it
// either. (Only with GOEXPERIMENT=runtimesecret; .ci/run runs it so.)
func TestGateSecret(t *testing.T) {
	c := coro.New(echo)
	defer c.Close()
	requireFast(t, c)
	var slow int
	secret.Do(func() { slow = roundTrips(t, c, 100) })
	require.Equal(t, 100, slow, "every Resume from inside secret.Do goes through iter.Pull")
	requireFast(t, c)
}
