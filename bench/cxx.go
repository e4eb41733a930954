package bench

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

//go:embed cxx/baselines.cpp
var cxxSource []byte

// CxxCase is a C++ baseline.
type CxxCase struct {
	Name, Doc, Run string
	NeedsBoost     bool
}

// CxxCases are the C++ baselines corobench runs beside the Go cases.
var CxxCases = []CxxCase{
	{"boost-fcontext", "C++ Boost.Context jump_fcontext, g++ -O2", "fcontext", true},
	{"glibc-swapcontext", "C++ glibc swapcontext (saves the signal mask: a system call per switch), g++ -O2", "swapcontext", false},
}

const boostHeader = "/usr/include/boost/context/detail/fcontext.hpp"

// Missing says why c cannot be built on this machine, or returns "" if
// it can: BuildCxx needs g++ on PATH, and Boost.Context's headers for the
// Boost case.
func (c CxxCase) Missing() string {
	if _, err := exec.LookPath("g++"); err != nil {
		return "no g++ on PATH (apt-get install g++ libboost-context-dev)"
	}
	if _, err := os.Stat(boostHeader); c.NeedsBoost && err != nil {
		return "no Boost.Context headers (" + boostHeader + "; apt-get install libboost-context-dev)"
	}
	return ""
}

// BuildCxx compiles the C++ baselines that can be built here (see Missing)
// into dir with g++ -O2. It reports which cases it built and, for the
// others, why not: "NAME skipped: WHY".
func BuildCxx(dir string) (binary string, available map[string]bool, missing []string, err error) {
	binary = filepath.Join(dir, "baselines")
	src := filepath.Join(dir, "baselines.cpp")
	args := []string{"-O2", "-o", binary, src}
	available = map[string]bool{}
	for _, c := range CxxCases {
		if why := c.Missing(); why != "" {
			missing = append(missing, c.Name+" skipped: "+why)
			continue
		}
		available[c.Name] = true
		if c.NeedsBoost {
			args = append([]string{"-DHAVE_BOOST_CONTEXT"}, append(args, "-lboost_context")...)
		}
	}
	if len(available) == 0 {
		return "", available, missing, nil
	}
	if err := os.WriteFile(src, cxxSource, 0o644); err != nil {
		return "", nil, nil, err
	}
	if out, err := exec.Command("g++", args...).CombinedOutput(); err != nil {
		return "", nil, nil, fmt.Errorf("g++ %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return binary, available, missing, nil
}

// External returns c as a case for Run, measured by the binary BuildCxx
// made: one process per run, timing itself.
func (c CxxCase) External(binary string) External {
	return External{Name: c.Name, Group: Cxx, Doc: c.Doc, Measure: func(n int64) (ns, ticks int64, err error) {
		samples, err := cxxRun(binary, c.Run, n, 1)
		if err != nil {
			return 0, 0, err
		}
		return samples[0][1], samples[0][2], nil
	}}
}

// cxxRun runs the binary and parses its "N ELAPSED_NS TICKS" lines.
func cxxRun(binary, name string, n int64, count int) ([][3]int64, error) {
	out, err := exec.Command(binary, name, strconv.FormatInt(n, 10), strconv.Itoa(count)).Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", filepath.Base(binary), name, err)
	}
	var samples [][3]int64
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("%s %s: unexpected output %q", filepath.Base(binary), name, line)
		}
		var s [3]int64
		for i := range f {
			v, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return nil, err
			}
			s[i] = int64(v)
		}
		samples = append(samples, s)
	}
	if len(samples) != count {
		return nil, errors.New(name + ": wrong number of samples")
	}
	return samples, nil
}
