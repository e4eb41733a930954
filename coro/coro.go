// Package coro provides stackful coroutines: functions that can suspend
// themselves from any call depth (Yield) and be resumed later (Resume),
// passing a value each way.
//
//	total := coro.New(func(c *coro.Coro[int, int], in int) int {
//		sum := 0
//		for in != 0 {
//			sum += in
//			in = c.Yield(sum) // suspend; the next Resume's argument comes back
//		}
//		return sum
//	})
//	total.Resume(3) // 3, true
//	total.Resume(4) // 7, true
//	total.Resume(0) // 7, false: the body returned
//
// The first Resume starts the body with its argument; each later Resume's
// argument is what the pending Yield returns. Resume reports alive=false
// when the body has returned, with the value it returned.
//
// Resume and Yield are inlined into the function that calls them, and must
// be: each call level between that code and the switch costs about as much
// as the switch itself. The Go compiler inlines nothing into a closure
// made by a function that it inlines in turn, so a body written as a
// closure returned by a small helper should come from a helper marked
// //go:noinline (or be a plain function).
//
// # Engines
//
// Goroutine (the default) runs each coroutine on a goroutine of its own
// (an iter.Pull's) and hands control between the two goroutines with
// corokit's assembly: what the runtime's own coroutine switch does, on the
// current stack, at a fraction of iter.Pull's cost. It is sound for all Go
// code: blocking, system calls, panics, growable stacks, the race
// detector, debuggers, profilers. Whenever the runtime must see a switch
// (the execution tracer runs, a goroutine profile is being taken, the
// goroutine is locked to its thread, a -race build, and the other cases
// ctx.HandoffStatus lists) the switch goes through iter.Pull instead, at
// iter.Pull's cost; WithRuntimeSwitch asks for that always. A coroutine
// whose handle becomes unreachable is closed, and its goroutine ends.
//
// Raw runs each coroutine on an mmap'd stack of fixed size (stackalloc) and
// switches with corokit's own assembly (package ctx), only inside Region,
// which pins the goroutine to its thread so that the garbage collector
// never scans one of its stacks while another is live. What that buys
// depends on the machine: cmd/corobench measures both engines side by side
// (its raw and goroutine cases), and the README shows one machine's report.
//
// # Inside a Region
//
// A region is for short computation that takes no lock. Inside one, on any
// stack, code must not
//
//   - park: channel waits, contended locks, time.Sleep, runtime.GC,
//     Goroutine-engine coroutines (fatal: "schedule: holding locks");
//   - call code that may take a lock, however rarely it waits: sync.Mutex,
//     and sync.Pool, whose Get and Put take a global mutex on their first
//     use after each garbage collection; so not fmt, encoding/json, log or
//     anything else that uses them. Code that looks like pure computation
//     often does. When the lock is contended the goroutine parks: "fatal
//     error: schedule: holding locks", now and then, under load;
//   - stop the world: runtime.ReadMemStats ("stopTheWorld: holding locks"),
//     StackTrace of a Goroutine-engine coroutine;
//   - turn a weak pointer into a strong one (weak.Pointer.Value may wait
//     for the collector: "schedule: holding locks", now and then);
//   - panic, even if recovered ("panic holding locks"); a nil dereference
//     is "unexpected signal during runtime execution";
//   - make scheduler-visible system calls: os file I/O, net ("stopm holding
//     locks", or "traceback did not unwind completely" when a GC scan
//     catches the goroutine in the call);
//   - run long: a region holds up every GC cycle and stop-the-world pause
//     of the process while it runs, and the heap grows uncollected;
//   - need more stack than it has: a raw stack cannot grow, and overflowing
//     it is "fatal error: stack size not a power of 2" (the goroutine that
//     entered the region has ctx.RegionStackBudget more).
//
// These are bugs that corokit makes loud, not safe: when the runtime notices
// one, the process ends with the fatal error quoted (a stress test of about
// 1,400 processes found no corrupted memory). It does not always notice: a
// lock that happens to be free, or a system call made while no collection
// runs, may pass without an error, so a test run that survives proves
// little. And a scheduler-visible system call may hand the goroutine to
// another thread, on which the region's code runs on until the process
// stops or the region ends, which then throws ("ctx: the goroutine left its
// thread inside a Region"). Misuse of corokit's API inside a
// region (resuming a finished Raw coroutine, yielding from the wrong stack)
// is a fatal error too, rather than a panic, which would be fatal anyway.
package coro

import (
	"fmt"
	"runtime"

	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/gabi"
	"github.com/corokit/corokit/stackalloc"
)

// Engine selects how a coroutine runs.
type Engine uint8

const (
	Goroutine Engine = iota // each coroutine is a goroutine, switched by the runtime's own handoff (as in iter.Pull)
	Raw                     // ctx.Switch on stackalloc stacks; only inside Region
)

func (e Engine) String() string {
	switch e {
	case Goroutine:
		return "goroutine"
	case Raw:
		return "raw"
	}
	return fmt.Sprintf("Engine(%d)", uint8(e))
}

// DefaultStackSize is a Raw coroutine's stack size unless WithStackSize says
// otherwise. Only the pages a coroutine touches become resident (4.6 KiB
// per suspended coroutine in corobench scale), but the stack, its guard
// page and the coroutine's records take address space: 72.7 KiB per
// coroutine at this size (corobench scale -stack 65536, linux/amd64).
const DefaultStackSize = 64 << 10

// Option configures New and Pull.
type Option func(*config)

type config struct {
	engine        Engine
	stackSize     int
	alloc         *stackalloc.Allocator
	panicValues   bool
	runtimeSwitch bool
}

func configure(opts []Option) config {
	cfg := config{engine: Goroutine, stackSize: DefaultStackSize, alloc: stackalloc.Default}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// WithEngine selects the engine (default Goroutine).
func WithEngine(e Engine) Option {
	if e > Raw {
		panic(gabi.Misuse(fmt.Sprintf("coro: WithEngine(%d): no such engine", uint8(e))))
	}
	return func(c *config) { c.engine = e }
}

// WithStackSize sets a Raw coroutine's stack size in bytes, from
// ctx.MinStack to stackalloc.MaxSize. The stack cannot grow.
func WithStackSize(bytes int) Option {
	if bytes < ctx.MinStack || bytes > stackalloc.MaxSize {
		panic(gabi.Misuse(fmt.Sprintf("coro: WithStackSize(%d): want %d to %d bytes", bytes, ctx.MinStack, stackalloc.MaxSize)))
	}
	return func(c *config) { c.stackSize = bytes }
}

// WithPanicValues makes Resume panic with the body's own panic value, not
// a *PanicError that wraps it with the coroutine's stack trace (Goroutine
// engine; on Raw a panic is fatal).
func WithPanicValues() Option { return func(c *config) { c.panicValues = true } }

// WithRuntimeSwitch makes a Goroutine-engine coroutine switch through
// iter.Pull's next and yield every time, as it does anyway whenever the
// runtime must see a switch (see ctx.HandoffStatus), rather than in
// corokit's assembly. It is for comparing the two and for ruling corokit's
// switch out when debugging; it costs several times the round trip.
func WithRuntimeSwitch() Option { return func(c *config) { c.runtimeSwitch = true } }

// WithAllocator makes Raw coroutines take their stacks from a (default
// stackalloc.Default).
func WithAllocator(a *stackalloc.Allocator) Option {
	if a == nil {
		panic(gabi.Misuse("coro: WithAllocator(nil)"))
	}
	return func(c *config) { c.alloc = a }
}

// Coro is a coroutine whose Resume passes In values to it and whose Yield
// passes Out values back.
//
// A Coro is not safe for concurrent use: calls from several goroutines
// must be ordered (a Coro may move between goroutines, one at a time, on
// the Goroutine engine). Its methods' checks catch misuse, not data races.
// Only New makes a usable Coro: the zero Coro's Resume and Yield panic.
type Coro[In, Out any] struct {
	// Resume and Yield are one inlined call into ctx's switch: for Raw
	// the contexts are real stacks; for the Goroutine engine, and for Raw
	// coroutines that can no longer run, they are hook contexts
	// (ctx.SetHook) that call the engine's Go code, or report the misuse,
	// instead (docs/design.md, section 6); on the Goroutine engine they are
	// also a Handoff's points, which switch goroutines in assembly.
	self   ctx.Context // Resume switches here
	parent ctx.Context // Yield switches here
	io     *slots[In, Out]

	// The switch itself: ctx.Switch, or on the Goroutine engine its
	// variants for handoff points, which skip its dispatch.
	switchSelf, switchParent func(from, to *ctx.Context)

	raw *rawCoro[In, Out] // exactly one of the two is set
	gor *goCoro[In, Out]
}

// slots are the values a coroutine passes, shared by its handles (a
// Goroutine-engine coroutine has two: see newGoroutine).
type slots[In, Out any] struct {
	in    In
	out   Out
	alive bool // what Resume reports: the body is suspended in Yield
}

// New returns a suspended coroutine that will run body on its first Resume.
// New with the Raw engine panics outside a Region.
func New[In, Out any](body func(c *Coro[In, Out], in In) Out, opts ...Option) *Coro[In, Out] {
	if body == nil {
		panic(gabi.Misuse("coro: New with a nil body"))
	}
	cfg := configure(opts)
	if cfg.engine == Goroutine {
		return newGoroutine(body, cfg)
	}
	reg := currentRegion()
	if reg == nil {
		panic(gabi.Misuse("coro: New with the Raw engine outside coro.Region: raw coroutines run only in a pinned region, " +
			"where the garbage collector cannot scan one stack of the goroutine while another is live"))
	}
	c, err := newRaw(body, cfg, reg)
	if err != nil {
		panic(gabi.Misuse("coro: no stack for a Raw coroutine: " + err.Error()))
	}
	return c
}

// Resume runs the coroutine until it yields or returns. alive reports
// whether it is suspended in Yield(out); false means the body returned out.
//
// Resume panics if the coroutine has finished, is running (a coroutine
// resuming itself, or another goroutine resuming it), or was closed; for
// Raw coroutines, inside a Region, these are fatal errors. With the
// Goroutine engine a panic in the body comes out of Resume as a
// *PanicError holding the value and the coroutine's stack trace.
func (c *Coro[In, Out]) Resume(in In) (out Out, alive bool) {
	io := c.io
	io.in = in
	c.switchSelf(&c.parent, &c.self)
	return io.out, io.alive
}

// Yield suspends the coroutine, making the pending Resume return (out,
// true), and returns the argument of the Resume that continues it. It may
// only be called by the coroutine's own body (at any depth), and panics
// otherwise (Raw: a fatal error). When a Goroutine-engine coroutine is
// closed while suspended, its Yield does not return: it unwinds the body,
// running deferred calls.
func (c *Coro[In, Out]) Yield(out Out) In {
	io := c.io
	io.out, io.alive = out, true
	c.switchParent(&c.self, &c.parent)
	return io.in
}

// Done reports whether the coroutine has finished or been closed.
func (c *Coro[In, Out]) Done() bool {
	if c.raw != nil {
		return c.raw.state >= finished
	}
	return c.gor.done()
}

// ResumeFrom is Resume for a function that ctx.Call runs: when it returns,
// Call's caller resumes the coroutine (caller.Redirect) and continues
// after Call once the coroutine yields or returns, with no frame in
// between. Resume's results stay in the coroutine: the caller does not get
// them. The function should return right after.
func (c *Coro[In, Out]) ResumeFrom(caller ctx.Caller, in In) {
	c.io.in = in
	caller.Redirect(&c.parent, &c.self)
}

// YieldFrom is Yield for a function that ctx.Call runs in the coroutine's
// body: when it returns, the coroutine yields out, and the next Resume
// continues Call's caller (Call returns true; the Resume's argument is not
// passed on). The function should return right after.
func (c *Coro[In, Out]) YieldFrom(caller ctx.Caller, out Out) {
	c.io.out, c.io.alive = out, true
	caller.Redirect(&c.self, &c.parent)
}

// Contexts returns the two contexts Resume and Yield switch between:
// Resume saves the resumer in parent and switches to self, Yield does the
// reverse. They are for code that builds on coro with ctx.Call and
// Caller.Redirect (package continuation): switching them directly skips
// Resume's and Yield's values. For the Goroutine engine they are hook
// contexts (ctx.Context.SetHook): switching to one runs the engine's Go
// code on the caller's stack, and needs no Region.
func (c *Coro[In, Out]) Contexts() (self, parent *ctx.Context) { return &c.self, &c.parent }

// Engine reports the coroutine's engine.
func (c *Coro[In, Out]) Engine() Engine {
	if c.raw != nil {
		return Raw
	}
	return Goroutine
}

// Close finishes a coroutine that has not finished. Closing a suspended
// Goroutine-engine coroutine unwinds it: its pending deferred calls run,
// innermost first, and its pending Yield never returns normally. If the
// body recovers from that unwinding and yields again, or panics, Close
// returns an error; the coroutine is finished either way. Closing a Raw
// coroutine discards it without running its deferred calls: unwinding needs
// a panic, which is fatal inside a region.
//
// Close of a running coroutine returns an error. Closing again returns the
// first Close's result.
func (c *Coro[In, Out]) Close() error {
	if c.raw != nil {
		return c.raw.close()
	}
	return c.gor.close()
}

// StackTrace returns the call stack of a suspended coroutine, innermost
// first: from the function that called Yield to the body. It returns nil
// for a coroutine that is not suspended in Yield. For the Goroutine engine
// it reads the parked goroutine's stack (through runtime.Stack, which stops
// the world: not for hot paths); for Raw it walks the saved frame pointers.
func (c *Coro[In, Out]) StackTrace() []runtime.Frame {
	if c.raw != nil {
		return c.raw.stackTrace()
	}
	return c.gor.stackTrace()
}

// PanicError is what Resume panics with when a Goroutine-engine body
// panics: the original value and the coroutine's stack at the panic.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("coro: the coroutine panicked: %v\n\ncoroutine stack:\n%s", e.Value, e.Stack)
}

// Unwrap returns Value if it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
