//go:build linux && (amd64 || arm64) && !goexperiment.runtimesecret

package gabi

import "testing"

// testSecretDo would check that g.secret counts runtime/secret.Do's
// nesting, but that package exists only with GOEXPERIMENT=runtimesecret in
// the supported releases; CI runs this test in that build too.
func testSecretDo(t *testing.T) {
	t.Log("g.secret is nonzero only inside runtime/secret.Do: run with GOEXPERIMENT=runtimesecret to check it")
}
