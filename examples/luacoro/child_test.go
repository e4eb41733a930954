package luacoro_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// corokit's internal/testproc is out of this module's reach, so this is
// the little of it these tests need: run one test of this binary again in a
// child process, for the cases that end the process (the Raw engine's
// fatal errors) or might hang it (ending a coroutine that resists), and
// collect garbage in a loop beside a torture.

const childEnv = "LUACORO_CHILD"

// isChild reports whether this process runs test t as runChild's child.
func isChild(t *testing.T) bool { return os.Getenv(childEnv) == t.Name() }

// runChild runs test t again in a child process, through the emulator named
// by COROKIT_EXEC_WRAPPER if set (qemu-user cannot exec an arm64 binary by
// itself here), and returns its combined output and how it ended.
func runChild(t *testing.T, timeout time.Duration, env ...string) (string, error) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// -test.run matches each level of a subtest's name on its own.
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	args := []string{self, "-test.run=" + strings.Join(parts, "/"), "-test.count=1", "-test.v"}
	if w := os.Getenv("COROKIT_EXEC_WRAPPER"); w != "" {
		args = append([]string{w}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(append(os.Environ(), childEnv+"="+t.Name()), env...)
	out, err := cmd.CombinedOutput()
	switch {
	case ctx.Err() != nil:
		t.Fatalf("the child did not finish in %v:\n%s", timeout, out)
	case errors.Is(err, syscall.ENOEXEC):
		t.Fatalf("cannot run the test binary (%v): under qemu-user, set COROKIT_EXEC_WRAPPER", err)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running the child: %v", err)
	}
	return string(out), err
}

// gcLoop runs runtime.GC in a loop on a goroutine of its own until stop is
// called; cycles reports how many collections it has finished.
func gcLoop() (cycles func() int64, stop func()) {
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				runtime.GC()
				n.Add(1)
			}
		}
	}()
	return n.Load, func() { close(done) }
}
