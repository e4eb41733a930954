// Package continuation provides one-shot delimited continuations modelled
// on OpenJDK's jdk.internal.vm.Continuation, the primitive under Java's
// virtual threads.
//
// A Continuation wraps a body. Run mounts it on the calling goroutine and
// runs the body until the body returns or calls Yield(scope) for the
// continuation's Scope; then Run returns. The next Run resumes the body
// where it yielded.
//
//	scope := continuation.NewScope("squares")
//	var value int
//	gen := continuation.New(scope, func() {
//		for i := 1; i <= 4; i++ {
//			value = i * i
//			continuation.Yield(scope) // back to whoever called Run
//		}
//	})
//	for gen.Run(); !gen.IsDone(); gen.Run() {
//		fmt.Print(value, " ") // 1 4 9 16
//	}
//
// Yield is static: it suspends the innermost mounted continuation of the
// given scope, and with it every continuation mounted inside that one, so
// an interpreter can yield to its outer scope through inner ones. The
// suspended chain is mounted again, in order, by the outer continuation's
// next Run.
//
// A Yield that cannot suspend is pinned: inside Pin/Unpin, from a goroutine
// other than the one the continuation runs on, or while the goroutine is
// locked to its thread where the engine cannot carry that. The
// continuation's OnPinned handler is called with the reason (by default it
// panics naming it) and Yield returns false.
//
// Continuations run on package coro's engines: Goroutine by default, Raw
// (coro.WithEngine(coro.Raw)) inside coro.Region, under that package's
// rules.
//
// # Cost
//
// A Run and a Yield cost little more than a coroutine's Resume and Yield on
// the same engine (cmd/corobench's continuation cases measure them) when
// the continuation yields to its own scope and, on the Goroutine engine, is
// the outermost one on the goroutine that runs it. On the Goroutine engine
// a Yield is a few nanoseconds cheaper still while one continuation of its
// scope runs at a time (the one most recently run the slower way). The
// first Run, yields through inner continuations, pinned yields, and on Raw
// the first Yield after Current or Pin in the body take a slower way.
//
// Run and Yield are inlined into the function that calls them, and must
// be: each call level between that code and the switch costs about as much
// as the switch itself. The Go compiler inlines nothing into a closure
// made by a function that it inlines in turn, so a body written as a
// closure returned by a small helper should come from a helper marked
// //go:noinline (or be a plain function).
package continuation

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/gabi"
)

// Scope names a kind of continuation; Yield(scope) finds the innermost
// mounted continuation of that scope.
type Scope struct {
	name string
	last atomic.Pointer[cont] // the one mounted most recently, for a Yield from a foreign goroutine
	// lastTo is last's parentC (on the Goroutine engine its coroutine's
	// yield point), as an address, once known: Yield's fast path can start
	// the switch on it without waiting for the loads that find k, and
	// uses it only once it has checked that it equals k.parentC.
	lastTo atomic.Uintptr
	yield  func(ctx.Caller) // Yield's hook: s.yieldHook
	slow   atomic.Int64     // Yields that took the hook, not a fast path (for tests)
}

// NewScope returns a new scope with the given name.
func NewScope(name string) *Scope {
	s := &Scope{name: name}
	s.yield = s.yieldHook()
	return s
}

// Name returns the scope's name.
func (s *Scope) Name() string { return s.name }

// PinnedReason says why a Yield could not suspend.
type PinnedReason uint8

const (
	CriticalSection  PinnedReason = iota + 1 // inside Pin/Unpin
	ForeignGoroutine                         // the goroutine does not run a continuation of the scope
	LockedThread                             // runtime.LockOSThread is in effect and the engine cannot carry it
)

func (r PinnedReason) String() string {
	switch r {
	case CriticalSection:
		return "critical section"
	case ForeignGoroutine:
		return "foreign goroutine"
	case LockedThread:
		return "locked thread"
	}
	return fmt.Sprintf("PinnedReason(%d)", uint8(r))
}

// Continuation is a suspendable body bound to a scope. When a suspended
// Goroutine-engine continuation becomes unreachable, its coroutine is
// closed (coro.Coro.Close), so a forgotten continuation leaks no
// goroutine.
type Continuation struct {
	// It is the only holder of its coroutine's handle, so that it can
	// become unreachable while suspended and coro's cleanup closes the
	// coroutine. The body sees only the cont record, which points back
	// here only while mounted (see cont.handle).
	*cont
	co  *coro.Coro[struct{}, *cont] // yields the continuation it yields to
	run func(ctx.Caller)            // Run's hook: c.runHook

	// The contexts of Run's switch, for its fast path (on Raw, k.selfC and
	// k.parentC again: one load fewer before the switch can start on them).
	from, to *ctx.Context
}

// cont is what the body and the mount chains see of a continuation.
type cont struct {
	scope    *Scope
	self     *coro.Coro[struct{}, *cont] // the body's own handle, for Yield
	parent   *cont                       // the continuation whose body mounted it, if any
	inside   *cont                       // suspended inside this one by a yield through it
	mounted  bool                        // also read by a Yield from a foreign goroutine: see lastMounted
	goEngine bool                        // runs on the Goroutine engine
	direct   *carrier                    // Goroutine engine: Run's hook resumed k straight from its caller, whose carrier this is: whoever suspends or ends k unmounts it
	pins     int
	onPinned func(PinnedReason)
	// handle is the user's Continuation, for Current. On the Goroutine
	// engine it is set only while k is mounted (Run's caller holds it then
	// anyway), so that a suspended continuation can become unreachable and
	// be cleaned up. A Raw continuation keeps it from its first Run on: it
	// lives no longer than its Region anyway, and Run's fast path does not
	// set it. (Not a weak pointer: turning one into a strong one may wait
	// for the collector, which inside a Region is a fatal error.)
	handle *Continuation

	// For the fast paths of Run and Yield (fast.go), which read them from
	// assembly: the contexts Yield switches between (Raw: set by New;
	// Goroutine engine: the body's handle's, set when the body starts);
	// Raw only, the stack's bounds; and the carrier of the goroutine its
	// code runs on (Raw: set by the first Run before that Run publishes k
	// in scope.last; Goroutine engine: its body goroutine's, set when the
	// body starts, before it can Yield, and after the Run that published
	// k, so that a Yield elsewhere may find it still nil). None of them
	// changes afterwards.
	selfC, parentC *ctx.Context
	lo, hi         uintptr
	car            *carrier
	// fast is where k stands with the fast paths (fast_*.s), which write
	// it too: see fastSuspended and the rest.
	fast uintptr

	// Goroutine engine only, for the fast paths: the goroutine (by id)
	// that last ran k as its outermost continuation, set in Go before
	// Run's fast path may read it; and the Continuation, as an address,
	// for Current, set once by New (one to one with k) so that neither
	// fast path stores it. Current reads it only while k is goMounted,
	// that is inside a Run of it, which keeps it alive.
	callerGoid uint64
	user       uintptr
}

// New returns a continuation of scope that runs body. opts choose the coro
// engine (Goroutine by default; Raw only inside coro.Region).
func New(scope *Scope, body func(), opts ...coro.Option) *Continuation {
	if scope == nil || body == nil {
		panic(gabi.Misuse("continuation: New with a nil scope or body"))
	}
	k := &cont{scope: scope}
	opts = append(opts[:len(opts):len(opts)], coro.WithPanicValues()) // Run's panic is the body's
	co := coro.New(func(self *coro.Coro[struct{}, *cont], _ struct{}) *cont {
		k.self = self
		if self.Engine() == coro.Goroutine {
			// The body has a goroutine of its own: its carrier starts at k.
			car := carrierFor(gabi.G())
			car.cur = k
			k.car = car // before any Yield in the body: see cont.car
			k.selfC, k.parentC = self.Contexts()
			if scope.last.Load() == k { // else a later makeLast has stored another's
				scope.lastTo.Store(uintptr(unsafe.Pointer(k.parentC)))
			}
			defer func() {
				car.cur = nil
				k.unmountDirect() // also when the body panics
				k.fast = slowOnly
			}()
			body()
			return nil
		}
		body()
		// Raw: Run's caller resumes directly when this stack leaves for
		// good (Run left no frame of its own to do it there).
		k.car.settle()
		k.unmount(k.car)
		return nil
	}, opts...)
	c := &Continuation{cont: k, co: co}
	k.user = uintptr(unsafe.Pointer(c))
	c.run = c.runHook()
	k.goEngine = co.Engine() == coro.Goroutine
	c.to, c.from = co.Contexts()
	if !k.goEngine {
		k.selfC, k.parentC = c.to, c.from
		k.lo, k.hi = k.selfC.Stack()
	}
	return c
}

// Scope returns the continuation's scope.
func (c *Continuation) Scope() *Scope { return c.scope }

// IsDone reports whether the body has returned (or panicked, or the
// continuation was closed).
func (c *Continuation) IsDone() bool { return c.co.Done() }

// Run mounts c on the calling goroutine and runs it until it yields to its
// scope or its body returns. Run of a done or mounted continuation panics.
// A panic in the body comes out of Run with the original value (Goroutine
// engine; on Raw a panic is fatal), and c is then done. The package
// documentation says what a Run costs.
func (c *Continuation) Run() {
	// Run and Yield are inlined into their callers, so that no frame of
	// theirs stays between the caller and the switch: it would return
	// across stacks, which the CPU mispredicts. Each is one call into
	// assembly (fast.go) that switches at once in the common case, a
	// continuation that yields to its own scope (on the Goroutine engine,
	// the outermost one on Run's goroutine), and otherwise is a ctx.Call
	// of a hook that does the work and then, where it can, has Call switch
	// on behalf of Run's or Yield's caller (ctx.Caller.Redirect): on the
	// Raw engine always, on the Goroutine engine for an outermost Run and
	// a Yield to the innermost continuation (docs/design.md, section 6).
	runFn(c, nil, nil, 0, 0)
	runtime.KeepAlive(c) // while goMounted, only cont.user, an address, refers to it
}

// runHook returns Run's hook: a closure, rather than a method value, whose
// wrapper would be one more frame to return through on the Goroutine
// engine.
//
//go:noinline
func (c *Continuation) runHook() func(ctx.Caller) {
	k := c.cont
	return func(caller ctx.Caller) {
		car := carrierFor(gabi.G())
		if c.co.Done() {
			panic(gabi.Misuse("continuation: Run of a done continuation of scope " + k.scope.name))
		}
		if k.isMounted() {
			panic(gabi.Misuse("continuation: Run of a continuation of scope " + k.scope.name + " that is already mounted"))
		}
		if !k.goEngine && k.car == nil {
			k.car = car // once, before mount publishes k: see cont.car
		}
		k.parent, car.cur = car.cur, k
		k.mount(c)
		k.fast = slowOnly
		if k.goEngine && k.parent == nil {
			// Outermost on this goroutine: no yield can go through k to a
			// scope further out, so nothing is left to do here after the
			// body yields or ends. Resume it for Run's caller, with no frame
			// of ours in between, and let whoever suspends or ends it
			// unmount it (unmountDirect).
			k.direct, k.callerGoid = car, car.goid
			c.co.ResumeFrom(caller, struct{}{})
			return
		}
		if k.goEngine {
			// The body runs on a goroutine of its own: a yield through k to a
			// scope further out comes back here, and suspends the continuation
			// that this goroutine runs, in turn. (In this function, not another:
			// each frame between Run's caller and the switch costs a
			// mispredicted return.)
			defer k.unmountOnPanic(car) // a panic in the body comes out of Resume here
			for {
				target, alive := c.co.Resume(struct{}{})
				if !alive || target == k {
					break
				}
				car.cur, k.parent.inside = k.parent, k
				if k.parent == target {
					target.unmountDirect() // it yields now
				}
				k.parent.self.Yield(target)
				car.cur, k.parent.inside = k, nil // resumed: k is mounted again and resumes its body
			}
			k.unmount(car)
			return
		}
		// Raw: mount k and the continuations suspended inside it by a yield
		// through them, each stack back in the context its inner one resumes
		// to (see yieldRaw), and resume the innermost.
		inner := k
		for in := k.inside; in != nil; in = in.inside {
			ctx.Move(in.parentC, in.parent.selfC)
			in.parent.inside = nil
			car.cur, inner = in, in
		}
		caller.Redirect(k.parentC, inner.selfC)
	}
}

func (k *cont) unmount(car *carrier) {
	car.cur, k.parent = k.parent, nil
	k.mounted = false
	if k.goEngine {
		k.handle = nil // see cont.handle
	}
}

// unmountOnPanic keeps the carrier right when the body panics (its value
// comes out of Resume as it is: coro.WithPanicValues).
func (k *cont) unmountOnPanic(car *carrier) {
	if k.mounted {
		k.unmount(car)
	}
}

// unmountDirect unmounts a continuation that Run resumed straight from its
// caller (see runHook), as the caller's Run would have.
//
// The fast path mounts it as goMounted instead, without touching the
// caller's carrier: nothing reads that carrier until the caller runs
// again, which is when k has been suspended or has ended.
func (k *cont) unmountDirect() {
	switch {
	case k.fast == goMounted: // nothing to undo
	case k.direct != nil:
		k.unmount(k.direct)
		k.direct = nil
	default:
		return
	}
	k.fast = slowOnly
	if k.inside == nil {
		k.fast = goSuspended // the next Run may take the fast way
	}
}

// Yield suspends the innermost mounted continuation of scope, and every
// continuation mounted inside it; that continuation's Run returns. Yield
// returns true when the continuation is run again. A pinned Yield (see the
// package documentation) calls OnPinned and returns false. With no
// continuation of scope mounted anywhere, Yield panics.
func Yield(scope *Scope) bool { return yieldFn(scope, nil, nil, 0, 0) }

// yieldHook returns Yield's hook for s (a closure: see runHook).
//
//go:noinline
func (s *Scope) yieldHook() func(ctx.Caller) {
	return func(caller ctx.Caller) {
		s.slow.Add(1)
		g := gabi.G()
		car := lookupCarrier(g)
		var inner *cont
		if car != nil {
			inner = car.cur
		}
		target := inner.find(s)
		if target == nil {
			if k := s.lastMounted(); k != nil {
				caller.SetResult(k.pinned(ForeignGoroutine))
				return
			}
			panic(gabi.Misuse("continuation: no continuation of scope " + s.name + " is mounted"))
		}
		goroutineEngine := false
		for k := inner; ; k = k.parent {
			if k.pins > 0 {
				caller.SetResult(target.pinned(CriticalSection)) // Loom asks the continuation being yielded
				return
			}
			goroutineEngine = goroutineEngine || k.goEngine
			if k == target {
				break
			}
		}
		switch {
		case !inner.goEngine && goroutineEngine:
			panic(gabi.Misuse("continuation: Yield to scope " + s.name + " from a Raw continuation, through a Region: " +
				"a Goroutine-engine continuation cannot be suspended inside one"))
		case !inner.goEngine:
			inner.yieldRaw(caller, target, car)
		case gabi.LockedToThread(g):
			// The runtime's coroutine switch requires the thread-lock state the
			// coroutine was created with; it would be a fatal error.
			caller.SetResult(target.pinned(LockedThread))
		case target == inner:
			inner.unmountDirect()
			inner.self.YieldFrom(caller, target) // to Run's caller, or to the loop in Run's hook
		default:
			inner.self.Yield(target) // to the loop in Run's hook
		}
	}
}

// yieldRaw suspends the Raw continuations from k, the innermost, out to
// target with one switch, to target's Run caller. Each one's stack is
// suspended in the context its inner one would have resumed it with (where
// it called the inner one's Run): the stack's own context takes it over,
// and target's next Run moves it back.
func (k *cont) yieldRaw(caller ctx.Caller, target *cont, car *carrier) {
	for in := k; in != target; in = in.parent {
		ctx.Move(in.parent.selfC, in.parentC)
		in.parent.inside = in
	}
	target.unmount(car)
	if target.inside == nil {
		target.fast = fastSuspended // its next Run can take the fast way
	}
	caller.Redirect(k.selfC, target.parentC)
}

// OnPinned sets the handler called when a Yield to c is pinned. The
// default handler panics naming the reason.
func (c *Continuation) OnPinned(fn func(reason PinnedReason)) { c.onPinned = fn }

func (k *cont) pinned(reason PinnedReason) bool {
	if k.onPinned == nil {
		panic(gabi.Misuse(fmt.Sprintf("continuation: Yield to scope %s is pinned: %s", k.scope.name, reason)))
	}
	k.onPinned(reason)
	return false
}

// Pin enters a critical section of the innermost mounted continuation: a
// Yield through it is pinned until the matching Unpin.
func Pin() {
	k := innermostOn(gabi.G())
	if k == nil {
		panic(gabi.Misuse("continuation: Pin outside a mounted continuation"))
	}
	k.pins++
}

// Unpin leaves the critical section that Pin entered.
func Unpin() {
	k := innermostOn(gabi.G())
	switch {
	case k == nil:
		panic(gabi.Misuse("continuation: Unpin outside a mounted continuation"))
	case k.pins == 0:
		panic(gabi.Misuse("continuation: Unpin without Pin"))
	}
	k.pins--
}

// Current returns the innermost continuation of scope mounted on the
// calling goroutine (through every continuation it runs inside), or nil.
func Current(scope *Scope) *Continuation {
	if k := innermostOn(gabi.G()).find(scope); k != nil {
		if k.fast == goMounted {
			return (*Continuation)(pointerAt(k.user))
		}
		return k.handle
	}
	return nil
}

// innermostOn returns the innermost continuation mounted on goroutine g,
// or nil.
func innermostOn(g unsafe.Pointer) *cont {
	if car := lookupCarrier(g); car != nil {
		return car.cur
	}
	return nil
}

// find returns the innermost continuation of scope in the chain from k
// outwards, or nil.
func (k *cont) find(scope *Scope) *cont {
	for k != nil && k.scope != scope {
		k = k.parent
	}
	return k
}

// StackTrace returns a suspended continuation's call stack, innermost
// first, from the function that called Yield to the body. It returns nil
// for a continuation that is not suspended.
func (c *Continuation) StackTrace() []runtime.Frame {
	frames := c.co.StackTrace()
	own := func(f runtime.Frame) bool {
		return strings.HasPrefix(f.Function, "github.com/corokit/corokit/continuation.") ||
			strings.HasPrefix(f.Function, "github.com/corokit/corokit/ctx.") // Call, inlined into Run and Yield
	}
	for len(frames) > 0 && own(frames[0]) {
		frames = frames[1:]
	}
	for len(frames) > 0 && own(frames[len(frames)-1]) {
		frames = frames[:len(frames)-1]
	}
	return frames
}

// Close ends a suspended continuation as coro.Coro.Close does: with the
// Goroutine engine its pending deferred calls run; a Raw one is discarded.
// Continuations suspended inside it (by a yield through them to its scope)
// end with it. Close of a mounted continuation returns an error.
func (c *Continuation) Close() error {
	if c.isMounted() {
		return errors.New("continuation: Close of a mounted continuation of scope " + c.scope.name)
	}
	c.fast = slowOnly
	inside := c.inside
	c.inside = nil
	err := c.co.Close()
	for k := inside; k != nil; {
		// Goroutine engine: unwinding c ran k's Run's deferred unmount.
		// Raw: nothing ran; k's Run frame went with c's stack.
		k.mounted, k.parent, k.handle, k.fast = false, nil, nil, slowOnly
		if !k.self.Done() {
			k.self.Close()
		}
		next := k.inside
		k.inside = nil
		k = next
	}
	return err
}
