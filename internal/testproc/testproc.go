// Package testproc runs one test of the current test binary in a child
// process, for tests whose subject kills the process: a fatal runtime
// error, a guard-page fault, an exhausted sysctl. It also holds the other
// helpers several packages' tests share: a GC loop, and the frames of a
// panic.
//
// Under qemu-user (GOARCH=arm64 go test -exec qemu-aarch64-static) the test
// binary cannot exec itself directly without binfmt_misc; the child is then
// started through the emulator named by COROKIT_EXEC_WRAPPER, or found on
// PATH as qemu-$GOARCH-static when the direct exec fails with ENOEXEC.
package testproc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"
)

const childEnv = "COROKIT_CHILD"

// IsChild reports whether this process was started by Run for test t.
func IsChild(t testing.TB) bool { return os.Getenv(childEnv) == t.Name() }

// Result is how a child ended.
type Result struct {
	Output string // stdout and stderr
	Err    error  // nil for exit status 0
	Status syscall.WaitStatus
}

// Run runs test t again in a child process, with COROKIT_CHILD naming it
// and env added to the environment, and waits at most two minutes.
func Run(t testing.TB, env ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"-test.run=^" + t.Name() + "$", "-test.count=1", "-test.v"}
	environ := append(append(os.Environ(), childEnv+"="+t.Name()), env...)
	run := func(name string, args ...string) (*exec.Cmd, []byte, error) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = environ
		out, err := cmd.CombinedOutput()
		return cmd, out, err
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatalf("testproc: %v", err)
	}
	var cmd *exec.Cmd
	var out []byte
	if w := os.Getenv("COROKIT_EXEC_WRAPPER"); w != "" {
		cmd, out, err = run(w, append([]string{self}, args...)...)
	} else {
		cmd, out, err = run(self, args...)
		if errors.Is(err, syscall.ENOEXEC) {
			qemu, lookErr := exec.LookPath("qemu-" + qemuArch() + "-static")
			if lookErr != nil {
				t.Fatalf("testproc: cannot exec the %s test binary (%v) and no emulator: set COROKIT_EXEC_WRAPPER", runtime.GOARCH, err)
			}
			cmd, out, err = run(qemu, append([]string{self}, args...)...)
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("testproc: child %s did not finish in time:\n%s", t.Name(), out)
	}
	var ws syscall.WaitStatus
	if cmd.ProcessState != nil {
		ws = cmd.ProcessState.Sys().(syscall.WaitStatus)
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("testproc: running child: %v", err)
	}
	return Result{Output: string(out), Err: err, Status: ws}
}

func qemuArch() string {
	if runtime.GOARCH == "arm64" {
		return "aarch64"
	}
	return runtime.GOARCH
}

// Emulated reports whether the tests run under an emulator (the arm64 run
// under qemu-user sets COROKIT_EXEC_WRAPPER), where everything takes ten
// to fifty times longer: tortures scale their rounds down by Scale.
func Emulated() bool { return os.Getenv("COROKIT_EXEC_WRAPPER") != "" }

// Scale returns n, or n/20 under an emulator and n/10 in a -race build
// (at least 1): the tortures' rounds.
func Scale(n int) int {
	switch {
	case Emulated():
		return max(1, n/20)
	case RaceEnabled:
		return max(1, n/10)
	}
	return n
}
