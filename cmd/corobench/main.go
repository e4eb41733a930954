// Command corobench reports what a context switch costs on this machine,
// for every way Go (and C++, for comparison) can switch, side by side.
//
//	corobench [-count N] [-time D] [-cases REGEXP] [-json] [-svg FILE]
//	corobench compare A.json B.json ...
//	corobench disasm
//	corobench scale [-n N] [-engine raw|goroutine|all] [-stack BYTES]
//
// The default run measures every case -count times and prints a table:
// the median ns per round trip (one switch there and one back), the spread,
// time-stamp-counter ticks per round trip (TSC on amd64, CNTVCT_EL0 on
// arm64: counter ticks at the measured frequency, not core cycles), round
// trips per second and the ratios to corokit's raw engine and to the
// machine's floor (the floor case: a bare register swap in assembly, which
// no usable switch can beat). -json writes the
// same as one JSON document (see Report) for collecting machines; compare
// puts such documents side by side. disasm prints the switch as this binary
// holds it. scale measures the memory of many suspended coroutines.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"time"

	"github.com/corokit/corokit/bench"
	"golang.org/x/sys/unix"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "corobench:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "compare":
			return compare(stdout, args[1:])
		case "disasm":
			if len(args) > 1 {
				return fmt.Errorf("disasm takes no arguments")
			}
			return disasm(stdout)
		case "scale":
			return scaleCmd(args[1:], stdout, stderr)
		}
	}
	fs := newFlagSet("corobench", stderr)
	count := fs.Int("count", 5, "runs per case")
	dur := fs.Duration("time", 100*time.Millisecond, "length of one run")
	cases := fs.String("cases", "", "run only the cases matching this regular expression")
	asJSON := fs.Bool("json", false, "write one JSON document instead of the table")
	svg := fs.String("svg", "", "also draw the results as an SVG bar chart in this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *count < 1 {
		return fmt.Errorf("-count %d: want 1 or more", *count)
	}
	var match *regexp.Regexp
	if *cases != "" {
		var err error
		if match, err = regexp.Compile(*cases); err != nil {
			return fmt.Errorf("-cases: %v", err)
		}
	}
	var svgFile *os.File
	if *svg != "" {
		var err error
		if svgFile, err = os.Create(*svg); err != nil {
			return err
		}
		defer svgFile.Close()
	}

	rep := &Report{CPU: readCPU(), Go: runtime.Version(), OS: readOS(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Count: *count, When: time.Now().UTC(), TSCHz: bench.TSCHz(50 * time.Millisecond)}
	bar := &progress{w: stderr, on: isTerminal(stderr)}
	opts := bench.Options{Count: *count, Duration: *dur, Match: match}
	opts.Progress = func(_, cases, _ int, name string) {
		bar.total = cases * *count // Run knows how many cases matched
		bar.step(name)
	}
	// The C++ baselines run in the same rounds as the Go cases, so that a
	// ratio against them compares runs taken close together too. They are
	// built only if the run includes one.
	if cxxWanted(match) {
		cxxDir, err := os.MkdirTemp("", "corobench-cxx")
		if err != nil {
			return err
		}
		defer os.RemoveAll(cxxDir)
		binary, available, missing, err := bench.BuildCxx(cxxDir)
		rep.Notes = append(rep.Notes, missing...)
		if err != nil {
			rep.Notes = append(rep.Notes, "C++ baselines skipped: "+err.Error())
		}
		for _, c := range bench.CxxCases {
			if available[c.Name] {
				opts.External = append(opts.External, c.External(binary))
			}
		}
	}
	var notes []string
	rep.Cases, notes = bench.Run(opts)
	rep.Notes = append(rep.Notes, notes...)
	bar.finish()
	if len(rep.Cases) == 0 {
		return fmt.Errorf("-cases %q matches no case", *cases)
	}
	if svgFile != nil {
		if err := rep.writeSVG(svgFile); err != nil {
			return err
		}
	}
	if *asJSON {
		return rep.writeJSON(stdout)
	}
	rep.writeHeader(stdout)
	rep.writeTable(stdout)
	return nil
}

// cxxWanted reports whether match selects any C++ baseline.
func cxxWanted(match *regexp.Regexp) bool {
	for _, c := range bench.CxxCases {
		if match == nil || match.MatchString(c.Name) {
			return true
		}
	}
	return false
}

func scaleCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("corobench scale", stderr)
	n := fs.Int("n", 100_000, "coroutines to hold suspended at once")
	engine := fs.String("engine", "all", "raw, goroutine, parked (goroutines blocked on a channel) or all")
	stack := fs.Int("stack", 16<<10, "usable stack bytes of each raw coroutine")
	one := fs.Bool("one", false, "measure one engine in this process and print it as JSON (used by -engine all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *n < 1 {
		return fmt.Errorf("-n %d: want 1 or more", *n)
	}
	measure := map[string]func() scaleResult{
		"raw":       func() scaleResult { return scaleRaw(*n, *stack) },
		"goroutine": func() scaleResult { return scaleGoroutine(*n) },
		"parked":    func() scaleResult { return scaleParked(*n) },
	}
	engines := []string{*engine}
	if *engine == "all" {
		engines = []string{"raw", "goroutine", "parked"}
	} else if measure[*engine] == nil {
		return fmt.Errorf("-engine %q: want raw, goroutine, parked or all", *engine)
	}
	if *one {
		return json.NewEncoder(stdout).Encode(measure[*engine]())
	}
	// Each measurement runs in a fresh process: memory freed by one would
	// otherwise be reused by the next and hide its cost.
	var rs []scaleResult
	for _, e := range engines {
		r, err := scaleInChild(e, *n, *stack)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	printScale(stdout, rs)
	return nil
}

func scaleInChild(engine string, n, stack int) (scaleResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return scaleResult{}, err
	}
	args := []string{exe, "scale", "-one", "-engine", engine, "-n", strconv.Itoa(n), "-stack", strconv.Itoa(stack)}
	if w := os.Getenv("COROKIT_EXEC_WRAPPER"); w != "" { // an emulator, as in the arm64 tests
		args = append([]string{w}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return scaleResult{}, fmt.Errorf("scale -engine %s: %v", engine, err)
	}
	var r scaleResult
	if err := json.Unmarshal(out, &r); err != nil {
		return scaleResult{}, fmt.Errorf("scale -engine %s: %v", engine, err)
	}
	return r, nil
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line by main
	fs.Usage = func() {}     // flag calls it on every error; -h is handled in parse
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "usage of %s:\n", fs.Name())
			fs.SetOutput(os.Stderr)
			fs.PrintDefaults()
			return err
		}
		return fmt.Errorf("%v (see %s -h)", err, fs.Name())
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see %s -h)", fs.Arg(0), fs.Name())
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
