package main

import (
	"bufio"
	"bytes"
	"fmt"
	"go/build/constraint"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testToolchain is the toolchain that built this test: the one whose
// runtime is running.
func testToolchain(t *testing.T) *toolchain {
	t.Helper()
	tc, err := findToolchain("")
	require.NoError(t, err)
	require.Equal(t, runtime.Version(), tc.version, "`go env GOROOT` is not the toolchain that built this test")
	return tc
}

var asmDefine = regexp.MustCompile(`^#define (\w+) (-?\d+)$`)

// runtimeAsmHeader returns the #defines of the go_asm.h that the compiler
// writes for the runtime package of this build (its architecture, and
// -race if this test was built with it): the runtime's own record of its
// layout, which its assembly uses.
func runtimeAsmHeader(t *testing.T) map[string]int64 {
	t.Helper()
	args := []string{"build", "-a", "-work"}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "runtime")...)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOFLAGS=", "GOEXPERIMENT=")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	m := regexp.MustCompile(`(?m)^WORK=(.+)$`).FindSubmatch(out)
	require.NotNil(t, m, "go build -work printed no WORK=: %s", out)
	work := string(m[1])
	t.Cleanup(func() { os.RemoveAll(work) })
	// b001 is the action for the package named on the command line.
	f, err := os.Open(filepath.Join(work, "b001", "go_asm.h"))
	require.NoError(t, err)
	defer f.Close()
	defs := map[string]int64{}
	for s := bufio.NewScanner(f); s.Scan(); {
		if m := asmDefine.FindStringSubmatch(s.Text()); m != nil {
			defs[m[1]], _ = strconv.ParseInt(m[2], 10, 64)
		}
	}
	require.Contains(t, defs, "g_stack", "b001/go_asm.h is not the runtime's")
	return defs
}

// TestAsmHeader compares what the generator computes by type-checking the
// source with what the compiler computed when it built the runtime. Only
// this build's architecture and race mode are compared (each CI run
// covers one: amd64, amd64 -race, arm64): building the runtime for
// another takes as long again. iter.Pull's state has no go_asm.h (iter
// has no assembly); TestOffsets in package gabi observes it.
func TestAsmHeader(t *testing.T) {
	tc := testToolchain(t)
	defs := runtimeAsmHeader(t)
	var values []value
	for _, g := range groups {
		for _, v := range g.values {
			if v.build == anyBuild || (v.build == raceBuild) == raceEnabled {
				values = append(values, v)
			}
		}
	}
	results, err := tc.compute(runtime.GOARCH, values)
	require.NoError(t, err)
	compared := 0
	for _, r := range results {
		if r.typ == pullState {
			continue
		}
		require.NotEmpty(t, r.asm, r.name)
		var sum int64
		for _, term := range r.asm {
			def := term.typ + "_" + term.field
			n, ok := defs[def]
			require.True(t, ok, "%s: go_asm.h has no %s", r.name, def)
			sum += n
		}
		require.Equal(t, sum, r.n, "%s (%s): the generator computed %d, go_asm.h says %d", r.name, source(r.value), r.n, sum)
		compared++
	}
	t.Logf("%d values agree with %s's go_asm.h for linux/%s (race: %v)", compared, tc.version, runtime.GOARCH, raceEnabled)
}

// TestCommittedFilesAreCurrent is what `go run ./gen -check` does in CI.
func TestCommittedFilesAreCurrent(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, testToolchain(t), "..", true), "%s", &out)
}

func TestMissingNamesFailLoudly(t *testing.T) {
	tc := testToolchain(t)
	for _, c := range []struct {
		v    value
		want string
	}{
		{field("OffNope", "g", "nope"), "OffNope: g has no field nope"},
		{field("OffNope", "g", "sched", "nope"), "OffNope: g.sched has no field nope"},
		{field("OffNope", "g", "m", "curg"), "OffNope: g.m is a *runtime.m, not a named struct"},
		{field("OffNope", "nope", "x"), "OffNope: runtime has no type nope"},
		{field("OffNope", pullState, "nope"), "OffNope: iter.Pull.pull has no field nope"},
		{cnst("Nope", "_Gnope"), "Nope: runtime has no constant _Gnope"},
	} {
		_, err := tc.compute(runtime.GOARCH, []value{c.v})
		require.Error(t, err, c.want)
		require.Equal(t, fmt.Sprintf("%s linux/%s: %s", tc.version, runtime.GOARCH, c.want), err.Error())
	}
}

// TestUnsupportedConstraint evaluates the constraint of unsupported.go for
// releases and platforms around the supported ones: it must hold exactly
// where no generated file does.
func TestUnsupportedConstraint(t *testing.T) {
	for _, releases := range [][]int{{26}, {26, 27}, {22, 26, 27, 29}} {
		src := string(unsupportedFile(releases))
		line := regexp.MustCompile(`(?m)^//go:build .*$`).FindString(src)
		expr, err := constraint.Parse(line)
		require.NoError(t, err)
		for _, goos := range []string{"linux", "darwin", "windows"} {
			for _, arch := range []string{"amd64", "arm64", "386", "riscv64"} {
				for minor := 20; minor <= 31; minor++ {
					on := func(tag string) bool {
						if n, ok := strings.CutPrefix(tag, "go1."); ok {
							v, _ := strconv.Atoi(n)
							return v <= minor
						}
						return tag == goos || tag == arch
					}
					supported := goos == "linux" && (arch == "amd64" || arch == "arm64") && slices.Contains(releases, minor)
					require.Equal(t, !supported, expr.Eval(on), "%s on %s/%s go1.%d", line, goos, arch, minor)
				}
			}
		}
	}
	require.Contains(t, string(unsupportedFile([]int{26, 27, 28})),
		"const unsupported = corokit_supports_only_linux_amd64_and_linux_arm64_with_go1_26_go1_27_or_go1_28\n")
}

// TestOneErrorElsewhere builds package gabi where corokit does not run:
// the build must print exactly unsupported.go's error. The next Go release
// is simulated with its release tags. It then checks, with go list, that
// every package of this module that corokit's library packages and
// corobench depend on there depends on gabi itself, so that the go
// command compiles none of them and gabi's error stays the only one.
// (Building those packages themselves would compile the standard library
// for each platform: about 30 s each on a fresh machine. By hand:
// GOOS=darwin go build ./coro prints the one error.)
func TestOneErrorElsewhere(t *testing.T) {
	tc := testToolchain(t)
	releases, err := releasesIn("..", tc.minor)
	require.NoError(t, err)
	var next []string
	for n := tc.minor + 1; n <= releases[len(releases)-1]+1; n++ {
		next = append(next, fmt.Sprintf("go1.%d", n))
	}
	want := regexp.MustCompile(`^# github.com/corokit/corokit/internal/gabi\n` +
		`internal/gabi/unsupported.go:\d+:\d+: undefined: corokit_supports_only_linux_amd64_and_linux_arm64_with_go1_\d+(_(or_)?go1_\d+)*\n$`)
	for _, c := range []struct{ name, goos, goarch, tags string }{
		{"darwin", "darwin", "arm64", ""},
		{"windows", "windows", "amd64", ""},
		{"386", "linux", "386", ""},
		{"riscv64", "linux", "riscv64", ""},
		{"next release", "linux", runtime.GOARCH, strings.Join(next, ",")},
	} {
		t.Run(c.name, func(t *testing.T) {
			goCmd := func(args ...string) ([]byte, error) {
				cmd := exec.Command("go", args...)
				cmd.Dir = filepath.Join("..", "..", "..")
				cmd.Env = append(os.Environ(), "GOOS="+c.goos, "GOARCH="+c.goarch, "GOFLAGS=-tags="+c.tags, "CGO_ENABLED=0")
				return cmd.CombinedOutput()
			}
			out, err := goCmd("build", "./internal/gabi")
			require.Error(t, err, "gabi built for %s/%s tags %q", c.goos, c.goarch, c.tags)
			require.Regexp(t, want, string(out), "go build ./internal/gabi for %s/%s tags %q", c.goos, c.goarch, c.tags)

			const gabi = "github.com/corokit/corokit/internal/gabi"
			out, err = goCmd("list", "-deps", "-f", "{{.ImportPath}} {{.Module}} {{join .Deps \" \"}}",
				"./coro", "./continuation", "./ctx", "./stackalloc", "./cmd/corobench")
			require.NoError(t, err, "%s", out)
			checked := 0
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				f := strings.Fields(line)
				if f[1] != "github.com/corokit/corokit" || f[0] == gabi {
					continue // the standard library, or another module
				}
				require.Contains(t, f[2:], gabi, "%s does not import gabi on %s/%s: its own errors would join gabi's", f[0], c.goos, c.goarch)
				checked++
			}
			require.GreaterOrEqual(t, checked, 5)
		})
	}
}

func TestSameOutputAcrossPatchReleases(t *testing.T) {
	header := func(v string) string {
		return "// Code generated by internal/gabi/gen from " + v + " for linux/amd64; DO NOT EDIT.\nrest\n"
	}
	same, note := sameOutput([]byte(header("go1.26.8")), []byte(header("go1.26.9")))
	require.True(t, same)
	require.Equal(t, "generated from go1.26.8; go1.26.9 generates the same", note)
	same, _ = sameOutput([]byte(header("go1.26.8")), []byte(header("go1.27.0")))
	require.False(t, same)
	same, _ = sameOutput([]byte(header("go1.26.8")), []byte(strings.Replace(header("go1.26.9"), "amd64", "arm64", 1)))
	require.False(t, same)
	same, _ = sameOutput([]byte(header("go1.26.8")), []byte(header("go1.26.8")+"more\n"))
	require.False(t, same)
}

func TestDiff(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	new := "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\n"
	require.Equal(t, "   b\n   c\n - d\n + D\n   e\n   f\n   ...\n   i\n   j\n + k\n", diff([]byte(old), []byte(new)))
}
