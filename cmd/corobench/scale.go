package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"text/tabwriter"
	"time"
	"unsafe"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/procfs"
	"github.com/corokit/corokit/stackalloc"
	"golang.org/x/sys/unix"
)

// scaleOptions are the flags of corobench scale.
type scaleOptions struct {
	n      int
	engine string
	stack  int
	one    bool
}

func (o *scaleOptions) flags() *flag.FlagSet {
	fs := newFlagSet("corobench scale")
	fs.IntVar(&o.n, "n", 100_000, "coroutines to hold suspended at once, as many as MemAvailable holds")
	fs.StringVar(&o.engine, "engine", "all", "raw, goroutine, parked (goroutines blocked on a channel) or all")
	fs.IntVar(&o.stack, "stack", 16<<10, fmt.Sprintf("usable stack `bytes` of each raw coroutine, %d to %d", ctx.MinStack, stackalloc.MaxSize))
	fs.BoolVar(&o.one, "one", false, "") // internal: measure one engine in this process, print JSON (-engine all runs these)
	return fs
}

// scaleEngine is one thing scale can hold many of. each estimates the
// resident memory one costs, rounded up from the measurements in README.md
// (linux/amd64, Go 1.26): a raw coroutine touches one page of its stack
// plus about half a KiB of records; a Goroutine-engine coroutine is a
// goroutine (2 KiB stack at least) and its records; a parked goroutine is
// its stack and g.
type scaleEngine struct {
	name, what string
	each       int64
	measure    func(what string, n, stack int) scaleResult
}

// scaleEngines in the order -engine all runs them.
var scaleEngines = []scaleEngine{
	{"raw", "raw coroutines (in one Region)", int64(os.Getpagesize()) + 1<<10, scaleRaw},
	{"goroutine", "goroutine-engine coroutines", 4 << 10, scaleGoroutine},
	{"parked", "parked goroutines (baseline)", 3 << 10, scaleParked},
}

func scaleCmd(args []string, stdout, stderr io.Writer) error {
	var o scaleOptions
	if err := parse(o.flags(), args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usage(stdout, "scale")
		}
		return err
	}
	if o.n < 1 {
		return badInput("scale -n %d: want 1 or more", o.n)
	}
	// The bounds coro.WithStackSize enforces, checked here: its panic
	// inside the Region would be fatal.
	if o.stack < ctx.MinStack || o.stack > stackalloc.MaxSize {
		return badInput("scale -stack %d: want %d to %d bytes (ctx.MinStack to stackalloc.MaxSize)", o.stack, ctx.MinStack, stackalloc.MaxSize)
	}
	avail, availErr := memAvailable()
	var engines []scaleEngine
	for _, e := range scaleEngines {
		if o.engine == e.name || o.engine == "all" {
			engines = append(engines, e)
			if availErr != nil {
				continue // no bound to check against (a kernel before 3.14): the kernel will say
			}
			if err := fits(e.what, o.n, e.each, avail); err != nil {
				return err
			}
		}
	}
	if len(engines) == 0 {
		return badInput("scale -engine %q: want raw, goroutine, parked or all", o.engine)
	}
	if o.one {
		if len(engines) != 1 {
			return badInput("scale -one needs one -engine")
		}
		e := engines[0]
		return json.NewEncoder(stdout).Encode(e.measure(e.what, o.n, o.stack))
	}
	if engines[0].name == "raw" {
		if err := rawFitsMappings(o.n, o.stack); err != nil {
			return err
		}
	}
	// Each measurement runs in a fresh process: memory freed by one would
	// otherwise be reused by the next and hide its cost.
	var rs []scaleResult
	for _, e := range engines {
		r, err := scaleInChild(e.name, o.n, o.stack)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	printScale(stdout, rs)
	return nil
}

// fits refuses n things of each bytes that would not fit in avail, the
// memory the kernel says is available without swapping.
func fits(what string, n int, each, avail int64) error {
	if int64(n) > avail/each {
		return badInput("scale -n %d: %s would take about %s (%s each), more than MemAvailable (%s in /proc/meminfo): want -n %d or less",
			n, what, ibytes(float64(n)*float64(each)), ibytes(float64(each)), ibytes(float64(avail)), avail/each)
	}
	return nil
}

// memAvailable reads MemAvailable from /proc/meminfo, in bytes.
func memAvailable() (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	_, rest, ok := bytes.Cut(b, []byte("MemAvailable:"))
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	f := bytes.Fields(line)
	if !ok || len(f) != 2 || string(f[1]) != "kB" {
		return 0, errors.New("no MemAvailable in /proc/meminfo")
	}
	kb, err := strconv.ParseInt(string(f[0]), 10, 64)
	return kb << 10, err
}

// rawFitsMappings refuses n raw stacks that would need more memory
// mappings than vm.max_map_count allows. Stacks share large reservations,
// so that is only a problem where guards are made with mprotect, which
// splits a reservation twice per stack: where the kernel lacks
// MADV_GUARD_INSTALL (before Linux 6.13, and under qemu-user).
func rawFitsMappings(n, stack int) error {
	probe := stackalloc.New() // the guard mode stackalloc.Default will pick
	s, err := probe.Alloc(stack)
	if err != nil {
		return err
	}
	guard := probe.Stats().Guard
	probe.Free(s)
	b, err := procfs.ReadFile("/proc/sys/vm/max_map_count")
	if err != nil {
		return nil // no bound to check against: stackalloc's error will name the sysctl
	}
	limit, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil {
		return nil
	}
	return fitsMappings(n, guard, limit, procfs.Mappings(make([]byte, 64<<10)))
}

// fitsMappings refuses n raw stacks guarded by guard in a process that
// has used of its limit of memory mappings.
func fitsMappings(n int, guard stackalloc.GuardMode, limit, used int) error {
	if guard != stackalloc.GuardMprotect {
		return nil
	}
	if room := max(limit-used, 0) / 2; n > room {
		return badInput("scale -n %d: raw stacks here are guarded with mprotect, two memory mappings each, and vm.max_map_count (%d) leaves room for %d: "+
			"raise it (sysctl vm.max_map_count), or use Linux 6.13+, whose MADV_GUARD_INSTALL guards need none", n, limit, room)
	}
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
	cmd.Stderr = os.Stderr // for the child's progress line, and any error
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

// scaleResult is the cost of holding n suspended coroutines (or parked
// goroutines) at once.
type scaleResult struct {
	What              string
	N                 int
	Create            time.Duration // all n
	Resident, Virtual int64         // bytes added while all n are alive
	Mappings          int           // kernel mappings added
	StackSize         int
}

// measureScale calls create(i) for i from 0 to n-1, each of which must
// leave one more live thing, between two readings of the process's
// memory, and shows progress on a terminal. It reads /proc with raw system
// calls, so it may run inside a Region.
func measureScale(what string, n int, create func(i int)) scaleResult {
	buf := make([]byte, 64<<10)
	bar := newCountBar(os.Stderr, what, n)
	m0 := procfs.Mappings(buf)
	v0, r0, _ := procfs.Memory()
	start := time.Now()
	for i := range n {
		create(i)
		bar.count(i + 1)
	}
	d := time.Since(start)
	v1, r1, _ := procfs.Memory()
	bar.clear()
	return scaleResult{What: what, N: n, Create: d, Resident: r1 - r0, Virtual: v1 - v0, Mappings: procfs.Mappings(buf) - m0}
}

func suspendedBody(c *coro.Coro[int, int], in int) int {
	for {
		in = c.Yield(in)
	}
}

func scaleRaw(what string, n, stack int) scaleResult {
	var r scaleResult
	coro.Region(func() {
		cs := make([]*coro.Coro[int, int], n)
		r = measureScale(what, n, func(i int) {
			cs[i] = coro.New(suspendedBody, coro.WithEngine(coro.Raw), coro.WithStackSize(stack))
			cs[i].Resume(i)
		})
		for _, c := range cs {
			c.Close()
		}
	})
	r.StackSize = stack
	return r
}

func scaleGoroutine(what string, n, _ int) scaleResult {
	cs := make([]*coro.Coro[int, int], n)
	runtime.GC()
	r := measureScale(what, n, func(i int) {
		cs[i] = coro.New(suspendedBody)
		cs[i].Resume(i)
	})
	for _, c := range cs {
		c.Close()
	}
	return r
}

func scaleParked(what string, n, _ int) scaleResult {
	block := make(chan struct{})
	started := make(chan struct{}, 1024)
	runtime.GC()
	r := measureScale(what, n, func(int) {
		go func() { started <- struct{}{}; <-block }()
		<-started
	})
	close(block)
	return r
}

// countBar shows "what: i/n (p%)" on a terminal, about every percent.
// It may run inside a Region: it formats with strconv, which takes no
// lock (fmt does, through sync.Pool), and writes with a raw system call.
type countBar struct {
	fd      uintptr
	on      bool
	what    string
	n, next int
	buf     []byte
}

func newCountBar(f *os.File, what string, n int) *countBar {
	return &countBar{fd: f.Fd(), on: isTerminal(f), what: what, n: n, buf: make([]byte, 0, 128)}
}

func (b *countBar) count(i int) {
	if !b.on || i < b.next {
		return
	}
	b.next = i + max(b.n/100, 1)
	line := append(b.buf[:0], "\r"...)
	line = append(line, b.what...)
	line = append(line, ": "...)
	line = strconv.AppendInt(line, int64(i), 10)
	line = append(line, '/')
	line = strconv.AppendInt(line, int64(b.n), 10)
	line = append(line, " ("...)
	line = strconv.AppendInt(line, int64(100*i/b.n), 10)
	line = append(line, "%)"...)
	b.write(line)
}

// clear blanks the line.
func (b *countBar) clear() {
	if b.on {
		line := append(b.buf[:0], '\r')
		line = append(line, bytes.Repeat([]byte{' '}, 80)...)
		b.write(append(line, '\r'))
	}
}

func (b *countBar) write(p []byte) {
	unix.RawSyscall(unix.SYS_WRITE, b.fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
}

func printScale(w io.Writer, rs []scaleResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "what\tn\tcreate each\tresident each\tvirtual each\tmappings added\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%s\t%s\t%d\t\n", r.What, r.N, (r.Create / time.Duration(max(r.N, 1))).Round(time.Nanosecond),
			bytesEach(r.Resident, r.N), bytesEach(r.Virtual, r.N), r.Mappings)
	}
	tw.Flush()
	for _, r := range rs {
		if r.StackSize > 0 {
			fmt.Fprintf(w, "raw stacks: %d bytes usable each, guarded, from stackalloc.Default\n", r.StackSize)
		}
	}
}

func bytesEach(total int64, n int) string {
	return ibytes(float64(total) / float64(max(n, 1)))
}

// ibytes formats a size in bytes with a binary unit, to one decimal.
func ibytes(b float64) string {
	if b < 1024 {
		return fmt.Sprintf("%.0f B", b)
	}
	unit := 0
	for b >= 1024 && unit < 4 {
		b /= 1024
		unit++
	}
	return fmt.Sprintf("%.1f %ciB", b, " KMGT"[unit])
}
