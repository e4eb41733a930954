package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/corokit/corokit/bench"
	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/corokit/corokit/stackalloc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corobench runs the command in-process and returns what it wrote and its
// exit status.
func corobench(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var out, errOut bytes.Buffer
	status = run(args, &out, &errOut)
	return out.String(), errOut.String(), status
}

// mustRun runs corobench and fails the test unless it succeeds.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, status := corobench(t, args...)
	require.Equal(t, 0, status, "corobench %v: %s", args, stderr)
	return out
}

func TestJSONReport(t *testing.T) {
	dir := t.TempDir()
	chart := filepath.Join(dir, "chart.svg")
	out := mustRun(t, "-count", "2", "-time", "2ms", "-cases", "^(ctx|raw|goroutine|iterpull|glibc-swapcontext)$", "-json", "-svg", chart)
	var rep Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, runtime.Version(), rep.Go)
	assert.Equal(t, runtime.GOARCH, rep.OS.GOARCH)
	assert.Positive(t, rep.TSCHz)
	assert.NotEmpty(t, rep.CPU.Vendor)
	assert.False(t, rep.When.IsZero())
	names := map[string]bool{}
	for _, c := range rep.Cases {
		names[c.Name] = true
		require.Len(t, c.Samples, 2, c.Name)
		require.Len(t, c.TSCTicks, 2, c.Name)
		assert.Positive(t, c.NsPerRoundTrip, c.Name)
		assert.True(t, c.Min() <= c.NsPerRoundTrip && c.NsPerRoundTrip <= c.Max(), c.Name)
		assert.NotEmpty(t, c.Group, c.Name)
	}
	for _, want := range []string{"ctx", "raw", "goroutine", "iterpull"} {
		assert.True(t, names[want], "case %s missing", want)
	}
	// The C++ baseline runs where g++ is installed (CI installs it), else a note says why.
	assert.True(t, names["glibc-swapcontext"] || len(rep.Notes) > 0, "neither a C++ result nor a note")

	// The document's shape: every field the Report comment lists, with
	// invariant_tsc a boolean like the cet_* fields.
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	for _, key := range []string{"cpu", "go", "os", "gomaxprocs", "tsc_hz", "count", "when", "cases"} {
		assert.Contains(t, doc, key)
	}
	cpu := doc["cpu"].(map[string]any)
	for _, key := range []string{"invariant_tsc", "cet_shadow_stack", "cet_ibt"} {
		assert.IsType(t, true, cpu[key], key)
	}
	for _, key := range []string{"name", "group", "doc", "ns_per_round_trip", "samples", "tsc_ticks"} {
		assert.Contains(t, doc["cases"].([]any)[0], key)
	}

	svg, err := os.ReadFile(chart)
	require.NoError(t, err)
	assert.Contains(t, string(svg), "<svg")
	assert.Contains(t, string(svg), ">raw<")
	// The Goroutine engine is corokit's: coloured as such, not as the Go runtime.
	assert.Regexp(t, `fill="`+groupColor(bench.Corokit)+`"><title>coro Goroutine engine`, string(svg))
	assert.Regexp(t, `fill="`+groupColor(bench.GoRuntime)+`"><title>bare iter.Pull`, string(svg))

	// compare: two reports side by side.
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	require.NoError(t, os.WriteFile(a, []byte(out), 0o644))
	out2 := mustRun(t, "-count", "1", "-time", "2ms", "-cases", "^(ctx|raw)$", "-json")
	require.NoError(t, os.WriteFile(b, []byte(out2), 0o644))
	table := mustRun(t, "compare", a, b)
	assert.Contains(t, table, "vs [1]")
	assert.Regexp(t, `(?m)^\s*raw\s+[\d.]+\s+[\d.]+\s+[\d.]+x`, table)
	assert.Regexp(t, `(?m)^\s*iterpull\s+[\d.]+\s+-\s+-`, table, "a case only the first report has")
}

func TestTable(t *testing.T) {
	out := mustRun(t, "-count", "1", "-time", "2ms", "-cases", "^(ctx|raw|chan)$")
	for _, want := range []string{"CPU ", "GOMAXPROCS=", "counter ticks, not core cycles", "ns/round trip", "vs raw"} {
		assert.Contains(t, out, want)
	}
	assert.Regexp(t, `(?m)^\s*raw\s+[\d.]+\s+[\d.]+-[\d.]+\s+\d+\s+[\d.]+[kMG]?\s+1\.00x`, out)
	assert.Regexp(t, `invariant (TSC|CNTVCT_EL0): (yes|no);`, out)
}

func TestDisasm(t *testing.T) {
	out := mustRun(t, "disasm")
	assert.Contains(t, out, "ctx.switchRegs ("+runtime.GOARCH+")")
	for _, name := range []string{"ctx.switchFrom", "ctx.call", "ctx.trampoline", "continuation.run", "continuation.yield"} {
		assert.Contains(t, out, name+" ("+runtime.GOARCH+")")
	}
	assert.Regexp(t, `\d+ instructions, \d+ bytes`, out)
	switch runtime.GOARCH {
	case "amd64": // the switch: load to's SP and jump to its PC
		assert.Regexp(t, `MOVQ 0\(BX\), SP`, out)
		assert.Regexp(t, `JMP DX`, out)
	case "arm64":
		assert.Regexp(t, `MOVD R2, RSP`, out)
		assert.Regexp(t, `JMP \(R3\)`, out)
	}
}

func TestScale(t *testing.T) {
	out := mustRun(t, "scale", "-n", "2000")
	for _, want := range []string{"raw coroutines", "goroutine-engine coroutines", "parked goroutines", "raw stacks: 16384 bytes usable each"} {
		assert.Contains(t, out, want)
	}
}

// Each refusal is one line on stderr, exit status 2, before anything runs.
func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	cases := strings.Join(namesIn(""), ", ")
	for _, tc := range []struct {
		args []string
		want string // the whole line, after "corobench: "
	}{
		{[]string{"-bogus"}, "flag provided but not defined: -bogus (see corobench -h)"},
		{[]string{"extra"}, `unexpected argument "extra" (see corobench -h)`},
		{[]string{"-count", "0"}, "-count 0: want 1 or more"},
		{[]string{"-time", "0"}, "-time 0s: want 1ms or more"},
		{[]string{"-time", "-5s"}, "-time -5s: want 1ms or more"},
		{[]string{"-time", "5"}, `invalid value "5" for flag -time: time: missing unit in duration "5" (see corobench -h)`},
		{[]string{"-cases", "("}, "-cases: error parsing regexp: missing closing ): `(`"},
		{[]string{"-cases", "nomatch", "-svg", filepath.Join(dir, "x.svg")}, `-cases "nomatch" matches no case (cases: ` + cases + ")"},
		{[]string{"-svg", dir}, "-svg " + dir + ": a directory"},
		{[]string{"-svg", "/nonexistent/x.svg"}, "-svg /nonexistent/x.svg: no directory /nonexistent"},
		{[]string{"compare", "only-one.json"}, "compare needs two or more reports made with corobench -json (see corobench help compare)"},
		{[]string{"compare", "/nonexistent/a.json", "/nonexistent/b.json"}, "open /nonexistent/a.json: no such file or directory"},
		{[]string{"disasm", "x"}, "disasm takes no arguments (see corobench help disasm)"},
		{[]string{"help", "nope"}, "help nope: no such command (commands: compare, disasm, scale)"},
		{[]string{"scale", "-engine", "fast"}, `scale -engine "fast": want raw, goroutine, parked or all`},
		{[]string{"scale", "-n", "0"}, "scale -n 0: want 1 or more"},
		{[]string{"scale", "-n", "-1"}, "scale -n -1: want 1 or more"},
		{[]string{"scale", "-stack", "100"}, "scale -stack 100: want 4096 to 1073741824 bytes (ctx.MinStack to stackalloc.MaxSize)"},
		{[]string{"scale", "-stack", "0"}, "scale -stack 0: want 4096 to 1073741824 bytes (ctx.MinStack to stackalloc.MaxSize)"},
		{[]string{"scale", "-stack", "-1"}, "scale -stack -1: want 4096 to 1073741824 bytes (ctx.MinStack to stackalloc.MaxSize)"},
		{[]string{"scale", "-stack", "999999999999"}, "scale -stack 999999999999: want 4096 to 1073741824 bytes (ctx.MinStack to stackalloc.MaxSize)"},
		{[]string{"scale", "-stack", "100", "-engine", "goroutine"}, "scale -stack 100: want 4096 to 1073741824 bytes (ctx.MinStack to stackalloc.MaxSize)"},
	} {
		out, stderr, status := corobench(t, tc.args...)
		assert.Equal(t, 2, status, "%v", tc.args)
		assert.Equal(t, "corobench: "+tc.want+"\n", stderr, "%v", tc.args)
		assert.Empty(t, out, "%v", tc.args)
	}
	_, err := os.Stat(filepath.Join(dir, "x.svg"))
	assert.True(t, os.IsNotExist(err), "a refused run leaves no SVG file behind")
}

// scale -n beyond what the machine holds is refused, naming the limit,
// before any coroutine is made.
func TestScaleRefusesTooMany(t *testing.T) {
	_, stderr, status := corobench(t, "scale", "-n", "999999999")
	assert.Equal(t, 2, status)
	assert.Regexp(t, `^corobench: scale -n 999999999: raw coroutines \(in one Region\) would take about [\d.]+ [KMGT]iB \([\d.]+ KiB each\), `+
		`more than MemAvailable \([\d.]+ [KMGT]iB in /proc/meminfo\): want -n \d+ or less\n$`, stderr)
	_, stderr, status = corobench(t, "scale", "-n", "999999999", "-engine", "parked")
	assert.Equal(t, 2, status)
	assert.Regexp(t, `^corobench: scale -n 999999999: parked goroutines \(baseline\) would take about `, stderr)

	assert.Equal(t, "scale -n 5: Goroutine-engine coroutines would take about 20.0 KiB (4.0 KiB each), more than MemAvailable (16.0 KiB in /proc/meminfo): want -n 4 or less",
		fits("Goroutine-engine coroutines", 5, 4<<10, 16<<10).Error())
	assert.NoError(t, fits("Goroutine-engine coroutines", 4, 4<<10, 16<<10))

	// mprotect guards cost two mappings per stack; MADV_GUARD_INSTALL none.
	assert.Equal(t, "scale -n 40000: raw stacks here are guarded with mprotect, two memory mappings each, and vm.max_map_count (65530) leaves room for 32715: "+
		"raise it (sysctl vm.max_map_count), or use Linux 6.13+, whose MADV_GUARD_INSTALL guards need none",
		fitsMappings(40000, stackalloc.GuardMprotect, 65530, 100).Error())
	assert.NoError(t, fitsMappings(32715, stackalloc.GuardMprotect, 65530, 100))
	assert.NoError(t, fitsMappings(1_000_000, stackalloc.GuardAuto, 65530, 100))
}

// Asked only for C++ cases that cannot be built, corobench says why.
func TestNoCxx(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no g++
	_, stderr, status := corobench(t, "-cases", "boost")
	assert.Equal(t, 2, status)
	assert.Equal(t, `corobench: -cases "boost" selects only C++ baselines that cannot run here: boost-fcontext: no g++ on PATH (apt-get install g++ libboost-context-dev)`+"\n", stderr)

	out := mustRun(t, "-count", "1", "-time", "2ms", "-cases", "^(ctx|boost-fcontext)$")
	assert.Contains(t, out, "note: boost-fcontext skipped: no g++ on PATH (apt-get install g++ libboost-context-dev)\n")
}

// An interrupted run removes the C++ baselines it built.
func TestInterruptRemovesTheCxxBuild(t *testing.T) {
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("no g++: a run builds nothing to remove")
	}
	if testproc.Emulated() {
		t.Skip("under qemu-user there is no g++ for the target to build the baselines with")
	}
	tmp := t.TempDir()
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(self, "-cases", "^boost-fcontext$", "-count", "1000", "-time", "1s")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, asMain+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	// Built once g++ is done: the binary is there and g++ has removed its
	// own temporary files, which it also makes in TMPDIR.
	built := func() bool {
		found, _ := filepath.Glob(filepath.Join(tmp, "corobench-cxx*", "baselines"))
		all, _ := os.ReadDir(tmp)
		return len(found) == 1 && len(all) == 1
	}
	require.Eventually(t, built, time.Minute, 10*time.Millisecond, "no build in %s: %s", tmp, &stderr)
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, stderr.String())
	assert.Equal(t, 130, exit.ExitCode(), stderr.String())
	assert.Equal(t, "corobench: stopped by interrupt\n", stderr.String())
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, left, "left behind in TMPDIR")
}

func TestCompareRefuses(t *testing.T) {
	dir := t.TempDir()
	good := `{"name": "raw", "ns_per_round_trip": 10, "samples": [10]}`
	for _, tc := range []struct{ doc, want string }{
		{`{not json`, "not a corobench -json report: invalid character 'n' looking for beginning of object key string"},
		{`{}`, "a corobench report with no cases"},
		{`{"cases": []}`, "a corobench report with no cases"},
		{`{"cases": [{}]}`, "case 1 has no name"},
		{`{"cases": [` + good + `, {"ns_per_round_trip": 3}]}`, "case 2 has no name"},
		{`{"cases": [` + good + `, ` + good + `]}`, "case raw appears twice"},
		{`{"cases": [{"name": "raw", "ns_per_round_trip": 0, "samples": [10]}]}`, "case raw: ns_per_round_trip 0: want a positive number"},
		{`{"cases": [{"name": "raw", "ns_per_round_trip": -5, "samples": [10]}]}`, "case raw: ns_per_round_trip -5: want a positive number"},
		{`{"cases": [{"name": "raw", "ns_per_round_trip": 10}]}`, "case raw has no samples"},
		{`{"cases": [{"name": "raw", "ns_per_round_trip": 10, "samples": [10, -1]}]}`, "case raw: sample -1: want a positive number"},
		{`{"cases": [{"name": "raw", "ns_per_round_trip": NaN, "samples": [10]}]}`, "not a corobench -json report: invalid character 'N' looking for beginning of value"},
	} {
		bad := filepath.Join(dir, "bad.json")
		require.NoError(t, os.WriteFile(bad, []byte(tc.doc), 0o644))
		out, stderr, status := corobench(t, "compare", bad, bad)
		assert.Equal(t, 2, status, tc.doc)
		assert.Equal(t, "corobench: "+bad+": "+tc.want+"\n", stderr, tc.doc)
		assert.Empty(t, out, tc.doc)
	}
	// Reports written before invariant_tsc was a boolean still compare.
	old := filepath.Join(dir, "old.json")
	require.NoError(t, os.WriteFile(old, []byte(`{"cpu": {"brand": "old", "invariant_tsc": "yes"}, "cases": [`+good+`]}`), 0o644))
	assert.Regexp(t, `(?m)^\s*raw\s+10.0\s+10.0\s+1.00x`, mustRun(t, "compare", old, old))
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		out, stderr, status := corobench(t, args...)
		assert.Equal(t, 0, status, "%v", args)
		assert.Empty(t, stderr, "%v", args)
		for _, want := range []string{
			"corobench [-count N] [-time D] [-cases REGEXP] [-json] [-svg FILE]\n",
			"corobench compare A.json B.json ...\n",
			"corobench disasm\n",
			"corobench scale [-n N] [-engine raw|goroutine|parked|all] [-stack BYTES]\n",
			"corobench help [COMMAND]\n",
			"\n  -count n ", "\n  -time duration ", "\n  -cases regexp ", "\n  -json ", "\n  -svg file ",
			"\nflags of corobench scale:\n", "\n  -n int ", "\n  -engine string ", "\n  -stack bytes ",
			"\n  corokit:    " + strings.Join(namesIn(bench.Corokit), ", ") + "\n",
		} {
			assert.Contains(t, out, want, "%v", args)
		}
		assert.NotContains(t, out, "-one", "scale's internal flag")
	}
	for _, args := range [][]string{{"help", "scale"}, {"scale", "-h"}} {
		out, _, status := corobench(t, args...)
		assert.Equal(t, 0, status, "%v", args)
		assert.True(t, strings.HasPrefix(out, "usage: corobench scale [-n N] [-engine raw|goroutine|parked|all] [-stack BYTES]\n"), out)
		assert.Contains(t, out, "\n  -stack bytes      usable stack bytes of each raw coroutine, 4096 to 1073741824 (default 16384)\n")
	}
	for _, cmd := range []string{"compare", "disasm"} {
		out, _, status := corobench(t, "help", cmd)
		assert.Equal(t, 0, status, cmd)
		assert.True(t, strings.HasPrefix(out, "usage: corobench "+cmd), out)
		out2, _, status := corobench(t, cmd, "-h")
		assert.Equal(t, 0, status, cmd)
		assert.Equal(t, out, out2)
	}
}

// A chart of one case still has an axis with ticks.
func TestSVGOneCase(t *testing.T) {
	rep := &Report{Count: 1, Cases: []bench.Result{{Name: "raw", Group: bench.Corokit, NsPerRoundTrip: 17.3, Samples: []float64{17.3}}}}
	svg := string(rep.svg())
	ticks := regexp.MustCompile(`text-anchor="middle">([\d.]+)</text>`).FindAllStringSubmatch(svg, -1)
	var labels []string
	for _, m := range ticks {
		labels = append(labels, m[1])
	}
	assert.Equal(t, []string{"0", "5", "10", "15", "20"}, labels)
	assert.Contains(t, svg, `fill="`+groupColor(bench.Corokit)+`"`)
	assert.Contains(t, svg, ">corokit</text>", "the legend names the group")

	// A group corobench has no colour for is drawn, in grey, and named.
	rep.Cases = append(rep.Cases, bench.Result{Name: "floor", Group: "reference", NsPerRoundTrip: 3, Samples: []float64{3}})
	svg = string(rep.svg())
	assert.Contains(t, svg, `fill="`+otherColor+`"`)
	assert.Contains(t, svg, ">reference</text>")
}

// The progress line of scale writes without locks, so it may run inside
// a Region: strconv and a raw write, about once a percent.
func TestCountBar(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	bar := &countBar{fd: w.Fd(), on: true, what: "things", n: 1000, buf: make([]byte, 0, 128)}
	coro.Region(func() {
		for i := range 1000 {
			bar.count(i + 1)
		}
		bar.clear()
	})
	w.Close()
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	lines := strings.Split(string(got), "\r")
	assert.Equal(t, "things: 1/1000 (0%)", lines[1])
	assert.Equal(t, "things: 11/1000 (1%)", lines[2])
	assert.Equal(t, "things: 991/1000 (99%)", lines[100])
	assert.Len(t, lines, 103, "a line per percent, and the blank one at the end")
	assert.Equal(t, strings.Repeat(" ", 80), lines[101])
}

// asMain makes this test binary corobench, for a test that runs it as a
// child process.
const asMain = "COROBENCH_TEST_AS_MAIN"

// TestMain lets scale's child processes, which re-run this executable,
// and asMain's be corobench rather than the test binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "scale" || os.Getenv(asMain) != "" {
		main()
	}
	os.Exit(m.Run())
}

// namesIn lists the known cases' names as -h and the refusals print
// them: all of them, or one group's.
func namesIn(group bench.Group) []string {
	var names []string
	for _, c := range caseNames() {
		if group == "" || c.group == group {
			names = append(names, c.name)
		}
	}
	return names
}
