// Package stackalloc hands out machine stacks for coroutines: fixed-size
// ranges of mmap'd memory, each with a guard region below it. Package coro
// takes its Raw coroutines' stacks from Default; ctx.Init takes any.
//
// A stack costs address space for its full size, and memory only for the
// pages its coroutine touches. Stacks are carved out of large reservations,
// so a million of them cost a few hundred memory mappings, not a million,
// with the default guard mode. The guard below each stack is installed
// once, when its slot is first used:
//
//	GuardAuto      MADV_GUARD_INSTALL (Linux 6.13+): no new mappings;
//	               falls back to mprotect where the kernel lacks it.
//	GuardMprotect  mprotect(PROT_NONE): two mappings per stack, against
//	               the vm.max_map_count sysctl (65530 by default).
//	GuardNone      no guard at all.
//
// A coroutine that overflows its stack ends the process with "fatal error:
// stack size not a power of 2" (docs/design.md, section 5): a stack cannot
// grow. A frame larger than the guard region can skip over it.
//
// Freed stacks go to a bounded per-size pool and keep their pages; beyond
// the pool their pages are returned to the kernel and the slot is kept for
// reuse. Address space, once reserved, is never given back.
//
// The allocator never parks the calling goroutine nor enters the scheduler,
// so it may be called inside a pinned region (see package coro), where
// parking and scheduler-visible system calls are fatal.
package stackalloc

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/corokit/corokit/internal/gabi"
)

// GuardMode selects how the guard region below each stack is made.
type GuardMode uint8

const (
	GuardAuto     GuardMode = iota // MADV_GUARD_INSTALL, else mprotect
	GuardMprotect                  // mprotect(PROT_NONE): two mappings per stack
	GuardNone                      // no guard region
)

func (m GuardMode) String() string {
	switch m {
	case GuardAuto:
		return "auto"
	case GuardMprotect:
		return "mprotect"
	case GuardNone:
		return "none"
	case guardMadvise:
		return "madvise"
	}
	return fmt.Sprintf("GuardMode(%d)", uint8(m))
}

// The allocator's internals (docs/design.md, section 5). Stacks are carved
// out of large reservations (MAP_NORESERVE|MAP_STACK). A slot, low
// addresses first:
//
//	slot                     Lo                                Hi      slot end
//	| guard (PROT_NONE-like) | usable stack, grows down  <--  | 64 B   |
//
// Hi-Lo is never a power of two (the top 64 bytes are kept out of it): the
// Go runtime must never believe it can grow or free one of these stacks,
// and a stack size that is not a power of two turns any attempt into the
// deterministic "fatal error: stack size not a power of 2". Freed pages go
// back with MADV_DONTNEED. The allocator makes only raw system calls and
// guards its state with a spin lock held while pinned, the way the
// runtime's own locks work.

// guardMadvise is what GuardAuto resolves to where MADV_GUARD_INSTALL works.
const guardMadvise GuardMode = 3

const (
	// MaxSize is the largest stack Alloc accepts.
	MaxSize = 1 << 30

	// topReserve bytes at the top of each slot are kept out of [Lo, Hi), so
	// that Hi-Lo is never a power of two.
	topReserve = 64

	defaultPoolSize    = 64
	defaultReservation = 64 << 20
)

// ErrInvalidSize is returned (wrapped) by Alloc for sizes outside 1..MaxSize.
var ErrInvalidSize = errors.New("stackalloc: invalid stack size")

// Stack is one allocated stack: the usable range [Lo, Hi). It grows down
// from Hi. The guard region lies directly below Lo.
type Stack struct {
	Lo, Hi uintptr
	class  *class // nil for the zero Stack
	index  int    // slot number within class
}

// Size is Hi-Lo, the usable bytes.
func (s Stack) Size() int { return int(s.Hi - s.Lo) }

// IsZero reports whether s is the zero Stack (no stack).
func (s Stack) IsZero() bool { return s.class == nil }

// Option configures an Allocator.
type Option func(*config)

type config struct {
	guard       GuardMode
	guardSize   uintptr
	poolSize    int
	reservation uintptr
}

// WithGuard selects the guard mode (default GuardAuto).
func WithGuard(m GuardMode) Option {
	if m > GuardNone {
		panic(gabi.Misuse(fmt.Sprintf("stackalloc: WithGuard(%d): unknown guard mode", m)))
	}
	return func(c *config) { c.guard = m }
}

// WithGuardSize sets the guard region's size, rounded up to whole pages
// (default one page). A frame larger than the guard can skip over it.
func WithGuardSize(bytes int) Option {
	if bytes <= 0 || bytes > MaxSize {
		panic(gabi.Misuse(fmt.Sprintf("stackalloc: WithGuardSize(%d): want 1 to %d bytes", bytes, MaxSize)))
	}
	return func(c *config) { c.guardSize = roundUp(uintptr(bytes), pageSize) }
}

// WithPoolSize bounds how many freed stacks of each size keep their pages
// for quick reuse (default 64). Beyond it, freed stacks' pages are returned
// to the kernel.
func WithPoolSize(stacks int) Option {
	if stacks < 0 {
		panic(gabi.Misuse(fmt.Sprintf("stackalloc: WithPoolSize(%d): negative", stacks)))
	}
	return func(c *config) { c.poolSize = stacks }
}

// WithReservation sets the size of each address-space reservation that
// stacks are carved from (default 64 MiB; at least one stack).
func WithReservation(bytes int) Option {
	if bytes <= 0 {
		panic(gabi.Misuse(fmt.Sprintf("stackalloc: WithReservation(%d): not positive", bytes)))
	}
	return func(c *config) { c.reservation = uintptr(bytes) }
}

// Allocator hands out stacks. Its methods are safe for concurrent use and
// safe inside a pinned region.
type Allocator struct {
	cfg     config
	mu      spinLock
	guard   GuardMode          // resolved: guardMadvise, GuardMprotect or GuardNone
	classes map[uintptr]*class // by slot size
	chunks  []chunk            // every reservation, for Stats
	live    int
	pooled  int
	scanBuf [4096]byte // for error reports, allocated up front; guarded by mu
}

// Default is the allocator that coro and ctx users share.
var Default = New()

// New returns an Allocator configured by opts.
func New(opts ...Option) *Allocator {
	cfg := config{guard: GuardAuto, guardSize: pageSize, poolSize: defaultPoolSize, reservation: defaultReservation}
	for _, o := range opts {
		o(&cfg)
	}
	a := &Allocator{cfg: cfg, guard: cfg.guard, classes: map[uintptr]*class{}}
	if cfg.guard == GuardNone {
		a.cfg.guardSize = 0
	}
	return a
}

// class holds the slots of one size.
type class struct {
	a        *Allocator
	slotSize uintptr // guard + usable + topReserve
	perChunk int
	chunks   []uintptr // base of each reservation
	carved   int       // slots handed out at least once
	inUse    []uint64  // bit per carved slot
	pool     []int     // freed, pages kept
	cold     []int     // freed, pages returned
}

type chunk struct{ base, size, slotSize, guardSize uintptr }

// Alloc returns a stack of at least size usable bytes.
func (a *Allocator) Alloc(size int) (Stack, error) {
	if size <= 0 || size > MaxSize {
		return Stack{}, fmt.Errorf("%w: %d bytes (want 1 to %d)", ErrInvalidSize, size, MaxSize)
	}
	usable := roundUp(uintptr(size)+topReserve, pageSize)
	a.mu.lock()
	defer a.mu.unlock()
	c := a.classes[usable]
	if c == nil {
		slot := a.cfg.guardSize + usable
		per := int(max(a.cfg.reservation/slot, 1))
		c = &class{a: a, slotSize: slot, perChunk: per}
		a.classes[usable] = c
	}
	i, err := c.take()
	if err != nil {
		return Stack{}, err
	}
	a.live++
	c.inUse[i/64] |= 1 << (i % 64)
	lo := c.slotBase(i) + a.cfg.guardSize
	return Stack{Lo: lo, Hi: lo + usable - topReserve, class: c, index: i}, nil
}

// take returns a free slot index: a pooled one, a cold one, or a new one.
func (c *class) take() (int, error) {
	if n := len(c.pool); n > 0 {
		i := c.pool[n-1]
		c.pool = c.pool[:n-1]
		c.a.pooled--
		return i, nil
	}
	if n := len(c.cold); n > 0 {
		i := c.cold[n-1]
		c.cold = c.cold[:n-1]
		return i, nil
	}
	if c.carved == len(c.chunks)*c.perChunk {
		size := c.slotSize * uintptr(c.perChunk)
		base, err := mmap(size)
		if err != nil {
			return 0, c.a.mapError("mmap", size, err)
		}
		c.chunks = append(c.chunks, base)
		c.a.chunks = append(c.a.chunks, chunk{base, size, c.slotSize, c.a.cfg.guardSize})
	}
	i := c.carved
	if err := c.a.installGuard(c.slotBase(i)); err != nil {
		return 0, err
	}
	c.carved++
	if c.carved > len(c.inUse)*64 {
		c.inUse = append(c.inUse, 0)
	}
	return i, nil
}

func (c *class) slotBase(i int) uintptr {
	return c.chunks[i/c.perChunk] + uintptr(i%c.perChunk)*c.slotSize
}

// installGuard makes the guard region at base, once per slot.
func (a *Allocator) installGuard(base uintptr) error {
	size := a.cfg.guardSize
	switch a.guard {
	case GuardNone:
		return nil
	case guardMadvise:
		if err := madvise(base, size, madvGuardInstall); err != nil {
			return a.mapError("madvise(MADV_GUARD_INSTALL)", size, err)
		}
		return nil
	case GuardAuto:
		// The first guard decides. A kernel before 6.13 rejects the advice;
		// qemu-user 7.2 accepts it and installs nothing, which only a read
		// of the guard by the kernel reveals.
		err := madvise(base, size, madvGuardInstall)
		if err == nil && kernelCannotRead(base) {
			a.guard = guardMadvise
			return nil
		}
		if err != nil && !isUnsupported(err) {
			return a.mapError("madvise(MADV_GUARD_INSTALL)", size, err)
		}
		a.guard = GuardMprotect
	}
	if err := mprotectNone(base, size); err != nil {
		return a.mapError("mprotect(PROT_NONE) guard", size, err)
	}
	return nil
}

// Free returns s to the allocator. Freeing the zero Stack, a stack of
// another allocator, or a stack twice panics: each is a bug that would
// otherwise hand one stack to two coroutines.
func (a *Allocator) Free(s Stack) {
	c := s.class
	if c == nil {
		panic(gabi.Misuse("stackalloc: Free of the zero Stack"))
	}
	if c.a != a {
		panic(gabi.Misuse("stackalloc: Free of a stack that belongs to another Allocator"))
	}
	a.mu.lock()
	freed := a.release(c, s.index)
	a.mu.unlock() // before panicking: a panic while pinned is fatal
	if !freed {
		panic(gabi.Misuse(fmt.Sprintf("stackalloc: Free of stack [%#x, %#x) that is not allocated (freed twice?)", s.Lo, s.Hi)))
	}
}

// release frees slot i of c, or reports false if it is not allocated.
func (a *Allocator) release(c *class, i int) bool {
	bit := uint64(1) << (i % 64)
	if i >= c.carved || c.inUse[i/64]&bit == 0 {
		return false
	}
	c.inUse[i/64] &^= bit
	a.live--
	if len(c.pool) < a.cfg.poolSize {
		c.pool = append(c.pool, i)
		a.pooled++
		return true
	}
	// The pool is full: give the pages back, keep the slot.
	base := c.slotBase(i) + a.cfg.guardSize
	if err := madvise(base, c.slotSize-a.cfg.guardSize, madvDontneed); err != nil {
		gabi.Throw("stackalloc: madvise(MADV_DONTNEED) on a stack failed: " + err.Error())
	}
	c.cold = append(c.cold, i)
	return true
}

// Stats describes an allocator's memory.
type Stats struct {
	Live          int       // stacks allocated and not freed
	Pooled        int       // freed stacks that keep their pages
	ReservedBytes int64     // address space reserved (virtual)
	ResidentBytes int64     // of it, pages in memory (mincore)
	Mappings      int       // kernel mappings (VMAs) covering the reservations
	Guard         GuardMode // the guard mode in effect
}

// Stats reports the allocator's counts and reads the kernel's view of its
// memory (mincore and /proc/self/maps).
func (a *Allocator) Stats() Stats {
	a.mu.lock()
	chunks := append([]chunk(nil), a.chunks...)
	s := Stats{Live: a.live, Pooled: a.pooled, Guard: a.guard}
	a.mu.unlock()
	for _, c := range chunks {
		s.ReservedBytes += int64(c.size)
		n := resident(c.base, c.size)
		if n < 0 { // qemu-user: ask for each slot's usable range
			n = 0
			for slot := c.base; slot < c.base+c.size; slot += c.slotSize {
				n += max(resident(slot+c.guardSize, c.slotSize-c.guardSize), 0)
			}
		}
		s.ResidentBytes += n
	}
	s.Mappings = countMappings(chunks)
	return s
}

// MapError reports a failed mmap, madvise or mprotect. When the kernel ran
// out of mappings it names the vm.max_map_count sysctl and its value.
type MapError struct {
	Op          string
	Bytes       uintptr
	Err         error
	Mappings    int // the process's mappings when it failed, or -1
	MaxMapCount int // vm.max_map_count, or -1
	Guard       GuardMode
}

func (e *MapError) Error() string {
	msg := fmt.Sprintf("stackalloc: %s of %d bytes: %v", e.Op, e.Bytes, e.Err)
	if errors.Is(e.Err, errNoMem) && e.MaxMapCount > 0 {
		msg += " ("
		if e.Mappings > 0 {
			msg += fmt.Sprintf("the process has %d mappings and ", e.Mappings)
		}
		msg += fmt.Sprintf("vm.max_map_count is %d: raise the sysctl vm.max_map_count", e.MaxMapCount)
		if e.Guard == GuardMprotect {
			msg += ", or use GuardAuto where the kernel has MADV_GUARD_INSTALL: mprotect guards cost two mappings per stack"
		}
		msg += ")"
	}
	return msg
}

func (e *MapError) Unwrap() error { return e.Err }

func (a *Allocator) mapError(op string, size uintptr, err error) error {
	return &MapError{Op: op, Bytes: size, Err: err, Mappings: processMappings(a.scanBuf[:]), MaxMapCount: maxMapCount(a.scanBuf[:]), Guard: a.guard}
}

// spinLock is a lock for the allocator's short critical sections. The
// holder is pinned (cannot be preempted), so a waiter spins only while the
// holder runs on another thread, and no waiter ever parks: parking inside a
// pinned region is fatal.
type spinLock struct{ state atomic.Uint32 }

func (l *spinLock) lock() {
	gabi.ProcPin()
	for !l.state.CompareAndSwap(0, 1) {
	}
}

func (l *spinLock) unlock() {
	l.state.Store(0)
	gabi.ProcUnpin()
}

var pageSize = uintptr(os.Getpagesize())

func roundUp(n, to uintptr) uintptr { return (n + to - 1) &^ (to - 1) }

// Bytes returns the usable range [Lo, Hi) as a slice, for tests and for
// people inspecting a stack. It is valid until s is freed.
func (s Stack) Bytes() []byte {
	lo := s.Lo
	// lo addresses mmap'd memory, which the Go heap never owns or moves.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&lo))
	return unsafe.Slice((*byte)(p), s.Size())
}
