package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corobench runs the command in-process and returns stdout and the error.
func corobench(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(args, &out, &errOut)
	return out.String(), err
}

func TestJSONReport(t *testing.T) {
	dir := t.TempDir()
	out, err := corobench(t, "-count", "2", "-time", "2ms", "-cases", "^(ctx|raw|iterpull|glibc-swapcontext)$", "-json", "-svg", filepath.Join(dir, "chart.svg"))
	require.NoError(t, err)
	var rep Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, runtime.Version(), rep.Go)
	assert.Equal(t, runtime.GOARCH, rep.OS.GOARCH)
	assert.Positive(t, rep.TSCHz)
	assert.NotEmpty(t, rep.CPU.Vendor)
	names := map[string]bool{}
	for _, c := range rep.Cases {
		names[c.Name] = true
		require.Len(t, c.Samples, 2, c.Name)
		require.Len(t, c.TSCTicks, 2, c.Name)
		assert.Positive(t, c.NsPerRoundTrip, c.Name)
		assert.True(t, c.Min() <= c.NsPerRoundTrip && c.NsPerRoundTrip <= c.Max(), c.Name)
	}
	for _, want := range []string{"ctx", "raw", "iterpull"} {
		assert.True(t, names[want], "case %s missing", want)
	}
	// The C++ baseline runs where g++ is installed (CI installs it), else a note says why.
	assert.True(t, names["glibc-swapcontext"] || len(rep.Notes) > 0, "neither a C++ result nor a note")

	svg, err := os.ReadFile(filepath.Join(dir, "chart.svg"))
	require.NoError(t, err)
	assert.Contains(t, string(svg), "<svg")
	assert.Contains(t, string(svg), ">raw<")

	// compare: two reports side by side.
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	require.NoError(t, os.WriteFile(a, []byte(out), 0o644))
	out2, err := corobench(t, "-count", "1", "-time", "2ms", "-cases", "^(ctx|raw)$", "-json")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(b, []byte(out2), 0o644))
	table, err := corobench(t, "compare", a, b)
	require.NoError(t, err)
	assert.Contains(t, table, "vs [1]")
	assert.Regexp(t, `(?m)^\s*raw\s+[\d.]+\s+[\d.]+\s+[\d.]+x`, table)
	assert.Regexp(t, `(?m)^\s*iterpull\s+[\d.]+\s+-\s+-`, table, "a case only the first report has")
}

func TestTable(t *testing.T) {
	out, err := corobench(t, "-count", "1", "-time", "2ms", "-cases", "^(ctx|raw|chan)$")
	require.NoError(t, err)
	for _, want := range []string{"CPU ", "GOMAXPROCS=", "counter ticks, not core cycles", "ns/round trip", "vs raw"} {
		assert.Contains(t, out, want)
	}
	assert.Regexp(t, `(?m)^\s*raw\s+[\d.]+\s+[\d.]+-[\d.]+\s+\d+\s+[\d.]+[kMG]?\s+1\.00x`, out)
}

func TestDisasm(t *testing.T) {
	out, err := corobench(t, "disasm")
	require.NoError(t, err)
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
	out, err := corobench(t, "scale", "-n", "2000")
	require.NoError(t, err)
	for _, want := range []string{"raw coroutines", "goroutine-engine coroutines", "parked goroutines"} {
		assert.Contains(t, out, want)
	}
}

func TestBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"-bogus"}, {"-count", "0"}, {"-cases", "("}, {"-cases", "^nothing$"}, {"extra"},
		{"compare", "only-one.json"}, {"compare", "/nonexistent/a.json", "/nonexistent/b.json"},
		{"scale", "-engine", "fast"}, {"scale", "-n", "0"}, {"disasm", "x"},
	} {
		_, err := corobench(t, args...)
		require.Error(t, err, "%v", args)
		assert.NotContains(t, err.Error(), "\n", "one line: %v", args)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{not json"), 0o644))
	_, err := corobench(t, "compare", bad, bad)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "not a corobench -json report"), err.Error())
}

// TestMain lets scale's child processes, which re-run this executable,
// be corobench rather than the test binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "scale" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
