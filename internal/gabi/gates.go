//go:build linux && (amd64 || arm64)

package gabi

import (
	"errors"
	"runtime"
	"sync"
	"unsafe"
)

// Gates are the runtime's two flags that say a coroutine switch must go
// through the runtime itself: the execution tracer is on (it records every
// switch; runtime.trace.enabled), and a goroutine profile is being taken
// (each goroutine must be recorded before it runs again;
// runtime.goroutineProfile.active). The runtime's own switch,
// coroswitch_m, reads both; neither can be named from outside the runtime
// (the linker refuses), so ProbeHandoff finds them in coroswitch_m's
// machine code.
type Gates struct {
	Trace, Profile *byte
}

var probed struct {
	pullOnce, handoffOnce sync.Once
	next                  func() (struct{}, bool) // the probe's, for the code search
	pullErr, handoffErr   error
	gates                 Gates
}

// ProbePull checks, once per process, what Pull relies on (see probePull).
// An error names the first thing that did not match: the caller must then
// leave iter.Pull's state alone.
func ProbePull() error {
	probed.pullOnce.Do(func() {
		var fail string
		if probed.next, fail = probePull(); fail != "" {
			probed.pullErr = errors.New("iter.Pull: " + fail)
		}
	})
	return probed.pullErr
}

// ProbeHandoff checks, once per process, what a goroutine handoff done
// outside the runtime relies on (ProbePull) and finds the Gates. An error
// names the first thing that did not match: the caller must then leave
// every switch to the runtime.
func ProbeHandoff() (Gates, error) {
	probed.handoffOnce.Do(func() {
		if probed.handoffErr = ProbePull(); probed.handoffErr == nil {
			probed.gates, probed.handoffErr = findGates(probed.next)
		}
	})
	return probed.gates, probed.handoffErr
}

// findGates finds the Gates in the runtime code that next calls.
func findGates(next func() (struct{}, bool)) (Gates, error) {
	// next calls runtime.coroswitch, which calls mcall(coroswitch_m).
	switchPC, err := calledFunction(closureWords(next)[0], "runtime.coroswitch")
	if err != nil {
		return Gates{}, err
	}
	mPC, err := mcallTarget(switchPC)
	if err != nil {
		return Gates{}, err
	}
	if name := funcName(mPC); name != "runtime.coroswitch_m" {
		return Gates{}, errors.New("runtime.coroswitch calls mcall with " + name + ", not runtime.coroswitch_m")
	}
	// coroswitch_m reads each flag once: trace.enabled in the inlined
	// traceEnabled, goroutineProfile.active in its own code. Other byte
	// loads of static data there belong to other inlined functions.
	var trace, profile []uintptr
	for _, l := range staticLoads(mPC, 1) {
		switch innermostFunc(l.pc) {
		case "runtime.traceEnabled":
			trace = append(trace, l.addr)
		case "runtime.coroswitch_m":
			profile = append(profile, l.addr)
		}
	}
	if len(trace) != 1 || len(profile) != 1 {
		return Gates{}, errors.New("runtime.coroswitch_m does not read exactly one static byte in traceEnabled " +
			"(trace.enabled) and one of its own (goroutineProfile.active)")
	}
	g := Gates{Trace: (*byte)(pointerAt(trace[0])), Profile: (*byte)(pointerAt(profile[0]))}
	for _, a := range []uintptr{trace[0], profile[0]} {
		if runtime.FuncForPC(a) != nil {
			return Gates{}, errors.New("a gate found in runtime.coroswitch_m lies in code, not data")
		}
		if v := *(*byte)(pointerAt(a)); v > 1 {
			return Gates{}, errors.New("a gate found in runtime.coroswitch_m is not a bool")
		}
	}
	return g, nil
}

// A staticLoad is an instruction at pc that reads the static data at addr.
type staticLoad struct{ pc, addr uintptr }

// calledFunction returns the entry of the function named name that the
// function at entry calls directly.
func calledFunction(entry uintptr, name string) (uintptr, error) {
	for _, t := range callTargets(entry) {
		if funcName(t) == name {
			return t, nil
		}
	}
	return 0, errors.New(funcName(entry) + " does not call " + name)
}

// funcName names the function whose code holds pc, or "".
func funcName(pc uintptr) string {
	if f := runtime.FuncForPC(pc); f != nil {
		return f.Name()
	}
	return ""
}

// innermostFunc names the function, inlined or not, whose code is at pc.
func innermostFunc(pc uintptr) string {
	// CallersFrames expects return addresses, which it steps back by one.
	f, _ := runtime.CallersFrames([]uintptr{pc + 1}).Next()
	return f.Function
}

// instructions calls decode with each instruction's address and bytes (at
// most max, enough for one instruction) from entry, the start of a
// function, to the end of that function. decode returns the instruction's
// length; 0 stops the walk.
func instructions(entry uintptr, max int, decode func(pc uintptr, code []byte) int) {
	for pc := entry; pc-entry < 1<<16; {
		if f := runtime.FuncForPC(pc); f == nil || f.Entry() != entry {
			return
		}
		n := decode(pc, unsafe.Slice((*byte)(pointerAt(pc)), max))
		if n <= 0 {
			return
		}
		pc += uintptr(n)
	}
}

var errNoMcall = errors.New("runtime.coroswitch does not pass a static func value to runtime.mcall")
