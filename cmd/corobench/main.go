// Command corobench reports what a context switch costs on this machine,
// for every way Go (and C++, for comparison) can switch, side by side.
//
//	corobench [-count N] [-time D] [-cases REGEXP] [-json] [-svg FILE]
//	corobench compare A.json B.json ...
//	corobench disasm
//	corobench scale [-n N] [-engine raw|goroutine|parked|all] [-stack BYTES]
//	corobench help [COMMAND]
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
//
// Every flag is checked before anything runs: bad input ends corobench
// with one line on stderr and exit status 2.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/corokit/corokit/bench"
	"github.com/corokit/corokit/ctx"
	"golang.org/x/sys/unix"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs corobench and returns its exit status: 0; 2 after one line on
// stderr for bad input; 1 after one line for a failure during the run.
func run(args []string, stdout, stderr io.Writer) int {
	err := dispatch(args, stdout, stderr)
	if stopping.Load() {
		select {} // removeOnSignal ends the process; err may be its doing
	}
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "corobench:", err)
	var bad usageError
	if errors.As(err, &bad) {
		return 2
	}
	return 1
}

// usageError is bad input: a flag, an argument or a document corobench
// refuses before (or instead of) measuring anything.
type usageError struct{ error }

func badInput(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func dispatch(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "compare":
			if len(args) == 2 && isHelp(args[1]) {
				return usage(stdout, "compare")
			}
			return compare(stdout, args[1:])
		case "disasm":
			if len(args) == 2 && isHelp(args[1]) {
				return usage(stdout, "disasm")
			}
			if len(args) > 1 {
				return badInput("disasm takes no arguments (see corobench help disasm)")
			}
			return disasm(stdout)
		case "scale":
			return scaleCmd(args[1:], stdout, stderr)
		case "help":
			if len(args) > 2 {
				return badInput("help takes at most one command (see corobench help)")
			}
			return usage(stdout, append(args[1:], "")[0])
		}
	}
	return measure(args, stdout, stderr)
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// mainOptions are the flags of the default command.
type mainOptions struct {
	count  int
	dur    time.Duration
	cases  string
	asJSON bool
	svg    string
}

func (o *mainOptions) flags() *flag.FlagSet {
	fs := newFlagSet("corobench")
	fs.IntVar(&o.count, "count", 5, "`n` runs per case, interleaved: each round runs every case once")
	o.dur = 100 * time.Millisecond
	fs.Var((*durationFlag)(&o.dur), "time", "`duration` of one run, 1ms or more")
	fs.StringVar(&o.cases, "cases", "", "run only the cases matching this `regexp` (see cases below)")
	fs.BoolVar(&o.asJSON, "json", false, "write one JSON document instead of the table")
	fs.StringVar(&o.svg, "svg", "", "also draw the results as an SVG bar chart in this `file`")
	return fs
}

// durationFlag is flag's Duration with time.ParseDuration's own error,
// which names the problem, where flag's says only "parse error".
type durationFlag time.Duration

func (d *durationFlag) String() string { return time.Duration(*d).String() }

func (d *durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err == nil {
		*d = durationFlag(v)
	}
	return err
}

// command describes a command for the usage text.
type command struct {
	name, args, summary string
	flags               func() *flag.FlagSet // nil: the command has none
}

var commands = []command{
	{"", "[-count N] [-time D] [-cases REGEXP] [-json] [-svg FILE]",
		"measure every case, interleaved, and print a table (or a JSON document, and an SVG chart)",
		func() *flag.FlagSet { return new(mainOptions).flags() }},
	{"compare", "A.json B.json ...",
		"put reports made with -json side by side, each case's ratio against the first report", nil},
	{"disasm", "",
		"print ctx's switch and continuation's fast paths as this binary holds them", nil},
	{"scale", "[-n N] [-engine raw|goroutine|parked|all] [-stack BYTES]",
		"measure the memory of n suspended coroutines, each engine in a fresh process",
		func() *flag.FlagSet { return new(scaleOptions).flags() }},
	{"help", "[COMMAND]", "print this text, or one command's", nil},
}

// usage prints the usage of one command, or of all with name "".
func usage(w io.Writer, name string) error {
	if name != "" {
		for _, c := range commands {
			if c.name == name && name != "help" {
				fmt.Fprintf(w, "usage: corobench %s %s\n\n%s.\n", c.name, c.args, upperFirst(c.summary))
				printFlags(w, c)
				return nil
			}
		}
		return badInput("help %s: no such command (commands: compare, disasm, scale)", name)
	}
	fmt.Fprint(w, "corobench reports what a context switch costs on this machine, for every way\nGo (and C++) can switch.\n\nusage:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  corobench %s\n        %s\n", strings.Join(strings.Fields(c.name+" "+c.args), " "), c.summary)
	}
	for _, c := range commands {
		printFlags(w, c)
	}
	// The cases, by who implements them.
	var groups []bench.Group
	byGroup := map[bench.Group][]string{}
	for _, c := range caseNames() {
		if byGroup[c.group] == nil {
			groups = append(groups, c.group)
		}
		byGroup[c.group] = append(byGroup[c.group], c.name)
	}
	fmt.Fprint(w, "\ncases (-cases), by who implements them (README.md says what each measures):\n")
	for _, g := range groups {
		fmt.Fprintf(w, "  %-11s %s\n", string(g)+":", strings.Join(byGroup[g], ", "))
	}
	return nil
}

func printFlags(w io.Writer, c command) {
	if c.flags == nil {
		return
	}
	fmt.Fprintf(w, "\nflags of %s:\n", strings.TrimSpace("corobench "+c.name))
	c.flags().VisitAll(func(f *flag.Flag) {
		if f.Usage == "" {
			return // internal (scale -one)
		}
		name, text := flag.UnquoteUsage(f)
		if name != "" {
			name = " " + name
		}
		fmt.Fprintf(w, "  -%-16s %s", f.Name+name, text)
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

func upperFirst(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// caseName is a case corobench knows, Go or C++.
type caseName struct {
	name  string
	group bench.Group
	cxx   *bench.CxxCase
}

func caseNames() []caseName {
	var names []caseName
	for _, c := range bench.Cases() {
		names = append(names, caseName{name: c.Name, group: c.Group})
	}
	for i, c := range bench.CxxCases {
		names = append(names, caseName{name: c.Name, group: bench.Cxx, cxx: &bench.CxxCases[i]})
	}
	return names
}

// selectCases checks -cases against the known cases: it must select at
// least one that can run here. It reports whether the selection includes
// a C++ case that can be built, and notes for the selected ones that
// cannot.
func selectCases(expr string, match *regexp.Regexp) (cxx bool, notes []string, err error) {
	var all, cannot []string
	goCases := 0
	for _, c := range caseNames() {
		all = append(all, c.name)
		if match != nil && !match.MatchString(c.name) {
			continue
		}
		switch {
		case c.cxx == nil:
			goCases++
		case c.cxx.Missing() == "":
			cxx = true
		default:
			cannot = append(cannot, c.name+": "+c.cxx.Missing())
			notes = append(notes, c.name+" skipped: "+c.cxx.Missing())
		}
	}
	switch {
	case goCases > 0 || cxx:
		return cxx, notes, nil
	case len(cannot) > 0:
		return false, nil, badInput("-cases %q selects only C++ baselines that cannot run here: %s", expr, strings.Join(cannot, "; "))
	}
	return false, nil, badInput("-cases %q matches no case (cases: %s)", expr, strings.Join(all, ", "))
}

// measure is the default command: the report.
func measure(args []string, stdout, stderr io.Writer) error {
	var o mainOptions
	fs := o.flags()
	if err := parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usage(stdout, "")
		}
		return err
	}
	if o.count < 1 {
		return badInput("-count %d: want 1 or more", o.count)
	}
	if o.dur < time.Millisecond {
		return badInput("-time %v: want 1ms or more", o.dur)
	}
	var match *regexp.Regexp
	if o.cases != "" {
		var err error
		if match, err = regexp.Compile(o.cases); err != nil {
			return badInput("-cases: %v", err)
		}
	}
	wantCxx, cxxMissing, err := selectCases(o.cases, match)
	if err != nil {
		return err
	}
	if o.svg != "" {
		if err := checkWritable(o.svg); err != nil {
			return err
		}
	}

	cpu, cpuNotes := readCPU()
	rep := &Report{CPU: cpu, Go: runtime.Version(), OS: readOS(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Count: o.count, When: time.Now().UTC(), TSCHz: bench.TSCHz(50 * time.Millisecond), Setup: setup()}
	rep.Notes = append(rep.Notes, cpuNotes...)
	rep.Notes = append(rep.Notes, cxxMissing...) // the selected C++ cases that cannot run
	bar := &progress{w: stderr, on: isTerminal(stderr)}
	opts := bench.Options{Count: o.count, Duration: o.dur, Match: match}
	opts.Progress = func(_, cases, _ int, name string) {
		bar.total = cases * o.count // Run knows how many cases matched
		bar.step(name)
	}
	// The C++ baselines run in the same rounds as the Go cases, so that a
	// ratio against them compares runs taken close together too. They are
	// built only if the run includes one.
	if wantCxx {
		cxxDir, err := os.MkdirTemp("", "corobench-cxx")
		if err != nil {
			return err
		}
		defer os.RemoveAll(cxxDir)
		defer removeOnSignal(cxxDir, stderr)()
		binary, available, _, err := bench.BuildCxx(cxxDir) // what it cannot build, selectCases has noted
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
	if len(rep.Cases) == 0 { // only C++ cases, and they failed: the notes say why
		return fmt.Errorf("-cases %q: no case could run: %s", o.cases, strings.Join(rep.Notes, "; "))
	}
	if o.svg != "" {
		// Written only now that there is something to draw: a run that
		// fails leaves no empty file behind.
		if err := os.WriteFile(o.svg, rep.svg(), 0o644); err != nil {
			return err
		}
	}
	if o.asJSON {
		return rep.writeJSON(stdout)
	}
	rep.writeHeader(stdout)
	rep.writeTable(stdout)
	return nil
}

// stopping is set once a signal is ending corobench (removeOnSignal).
var stopping atomic.Bool

// removeOnSignal makes an interrupt or SIGTERM, until stop is called,
// remove dir and end corobench with one line on stderr and the status a
// shell gives a command killed by that signal. The run may fail meanwhile
// for want of what was removed: stopping, set first, keeps run from
// reporting that.
func removeOnSignal(dir string, stderr io.Writer) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, unix.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			stopping.Store(true)
			os.RemoveAll(dir)
			fmt.Fprintf(stderr, "corobench: stopped by %v\n", s)
			os.Exit(128 + int(s.(unix.Signal)))
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// checkWritable refuses an output path that cannot be written, before a
// run spends its time.
func checkWritable(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return badInput("-svg %s: a directory", path)
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return badInput("-svg %s: no directory %s", path, dir)
	}
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return badInput("-svg %s: cannot write in %s: %v", path, dir, err)
	}
	return nil
}

// setup lists what about this run changes the figures beyond the machine:
// the report header prints it and -json carries it.
func setup() []string {
	var s []string
	if on, why := ctx.HandoffStatus(); on {
		s = append(s, "goroutine handoff: corokit's assembly (the runtime's switch only where the runtime must see it)")
	} else {
		s = append(s, "goroutine handoff: every switch through iter.Pull: "+why)
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range info.Settings {
			if kv.Key == "-race" && kv.Value == "true" {
				s = append(s, "built with -race: every case pays for the race detector's instrumentation")
			}
		}
	}
	return s
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line by run
	fs.Usage = func() {}     // flag calls it on every error; -h is handled by the caller
	return fs
}

// parse parses args, which must all be flags. It returns flag.ErrHelp for
// -h and a one-line usageError for anything wrong.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return badInput("%v (see %s -h)", err, fs.Name())
	}
	if fs.NArg() > 0 {
		return badInput("unexpected argument %q (see %s -h)", fs.Arg(0), fs.Name())
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
