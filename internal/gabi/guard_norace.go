//go:build linux && (amd64 || arm64) && !race

package gabi

// StackGuard is the runtime's stackGuard (runtime/stack.go) in this build:
// stackguard0 is stack.lo+StackGuard while no preemption is requested.
const StackGuard = StackGuardNoRace
