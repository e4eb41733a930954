//go:build !race

package gabi

// StackGuard is the runtime's stackGuard (runtime/stack.go): stackguard0 is
// stack.lo+StackGuard while no preemption is requested. The race detector
// doubles the nosplit allowance in it.
const StackGuard = 800 + 128
