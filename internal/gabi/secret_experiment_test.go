//go:build linux && (amd64 || arm64) && goexperiment.runtimesecret

package gabi

import (
	"runtime/secret"
	"testing"

	"github.com/stretchr/testify/require"
)

// testSecretDo checks that g.secret counts runtime/secret.Do's nesting.
func testSecretDo(t *testing.T) {
	count := func() int32 { return int32(WordAt(uintptr(G()), OffSecret)) }
	var inside, nested int32
	secret.Do(func() {
		inside = count()
		secret.Do(func() { nested = count() })
	})
	require.Equal(t, int32(1), inside, Wrong("g.secret", OffSecret))
	require.Equal(t, int32(2), nested, Wrong("g.secret", OffSecret))
	require.Zero(t, count(), Wrong("g.secret", OffSecret))
}
