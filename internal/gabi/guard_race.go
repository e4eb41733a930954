//go:build linux && (amd64 || arm64) && race

package gabi

// StackGuard is the runtime's stackGuard (runtime/stack.go) in a -race
// build, where the nosplit allowance is doubled.
const StackGuard = StackGuardRace
