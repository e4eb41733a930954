package continuation

import (
	"sync/atomic"
	"unsafe"

	"github.com/corokit/corokit/internal/gabi"
)

// A carrier is a goroutine's view of the continuations mounted on it: the
// innermost one, whose parent chain leads outwards (across goroutines, for
// the Goroutine engine, whose bodies each run on a goroutine of their own).
//
// Carriers are found by the goroutine's runtime g in a direct-mapped table,
// so that Run and Yield cost a few loads. The runtime reuses g records, so
// a carrier also records the goroutine's id: a new goroutine on an old g
// gets a carrier of its own, never the previous goroutine's.
type carrier struct {
	g    uintptr
	goid uint64
	cur  *cont
	// lazy is a Raw continuation that Run's fast path mounted (fast_*.s),
	// as an address: the innermost mounted continuation, not yet linked in
	// as cur. Its parent is cur. settle links it in; lookupCarrier settles
	// the carrier it returns, so Go code that finds a carrier sees the
	// whole chain in cur.
	//
	// An address, not a pointer, so that assembly may store it without a
	// write barrier. It needs no pointer to keep k alive: a Raw
	// coroutine's Region holds it, and through its body k, until it is
	// done, and k is unmounted before then.
	lazy uintptr
}

// settle links the continuation that Run's fast path mounted, if any,
// into the chain of mounted continuations.
func (car *carrier) settle() {
	if car.lazy == 0 {
		return
	}
	k := (*cont)(pointerAt(car.lazy))
	car.lazy, k.fast = 0, slowOnly
	k.parent, car.cur = car.cur, k
	k.mounted = true
}

// pointerAt turns the address of a live heap object back into a pointer
// (a conversion checkptr would reject for a plain uintptr variable, not
// knowing that something else keeps the object alive).
func pointerAt(a uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&a)) }

// isMounted reports whether k is mounted, the fast way or not.
func (k *cont) isMounted() bool {
	return k.mounted || k.fast == fastMounted || k.fast == goMounted
}

const tableBits = 12

var (
	table    [1 << tableBits]atomic.Pointer[carrier]
	overflow struct {
		lock atomic.Uint32 // a spin lock held pinned: never parks, so it works inside a Region
		m    map[uintptr]*carrier
	}
	overflowUsed atomic.Bool
)

func slot(g uintptr) *atomic.Pointer[carrier] {
	return &table[(g>>4)*0x9E3779B97F4A7C15>>(64-tableBits)]
}

// lookupCarrier returns the calling goroutine's carrier, settled, or nil.
func lookupCarrier(g unsafe.Pointer) *carrier {
	c := findCarrier(g)
	if c != nil {
		c.settle() // a continuation mounted the fast way joins the chain
	}
	return c
}

// findCarrier returns the calling goroutine's carrier as it is, or nil.
func findCarrier(g unsafe.Pointer) *carrier {
	k, id := uintptr(g), gabi.Goid(g)
	if c := slot(k).Load(); c != nil && c.g == k && c.goid == id {
		return c
	}
	if overflowUsed.Load() {
		lockOverflow()
		c := overflow.m[k]
		unlockOverflow()
		if c != nil && c.goid == id {
			return c
		}
	}
	return nil
}

// carrierFor returns the calling goroutine's carrier, making it if needed.
func carrierFor(g unsafe.Pointer) *carrier {
	if c := lookupCarrier(g); c != nil {
		return c
	}
	c := &carrier{g: uintptr(g), goid: gabi.Goid(g)}
	s := slot(c.g)
	// Take the slot if it is free or holds the carrier of an exited
	// goroutine: one that ran on the same g, or on a g the runtime has since
	// given to a goroutine with another id (g records are never freed, and
	// ids never reused). Otherwise another goroutine may still have it.
	old := s.Load()
	free := old == nil || old.g == c.g || gabi.Goid(pointerAt(old.g)) != old.goid
	if free && s.CompareAndSwap(old, c) {
		return c
	}
	c.overflow()
	return c
}

// overflow keeps c in the overflow map, for a goroutine whose table slot
// another goroutine holds.
func (c *carrier) overflow() {
	lockOverflow()
	if overflow.m == nil {
		overflow.m = map[uintptr]*carrier{}
	}
	overflow.m[c.g] = c
	overflowUsed.Store(true)
	unlockOverflow()
}

func lockOverflow() {
	gabi.ProcPin()
	for !overflow.lock.CompareAndSwap(0, 1) {
	}
}

func unlockOverflow() {
	overflow.lock.Store(0)
	gabi.ProcUnpin()
}

// mount marks k, the record of c, mounted and the scope's most recent
// continuation.
func (k *cont) mount(c *Continuation) {
	k.mounted, k.handle = true, c
	k.makeLast()
}

// makeLast makes k its scope's last continuation, which Yield's fast path
// tries first, and a Yield from a goroutine that runs no continuation of
// the scope looks at (lastMounted). The pointer is stored only when it
// changes: an atomic store is a locked instruction, and Run is a hot path.
// A Goroutine-engine k has no parentC until its body starts, which then
// fills in lastTo (New).
func (k *cont) makeLast() {
	if k.scope.last.Load() != k {
		k.scope.last.Store(k)
		k.scope.lastTo.Store(uintptr(unsafe.Pointer(k.parentC)))
	}
}

// lastMounted returns the scope's most recent continuation if it is still
// mounted, for telling a Yield from a foreign goroutine from a Yield with
// nothing mounted. The foreign goroutine reads k.mounted without
// synchronization of its own: a goroutine that a continuation's body
// started is ordered after the mount by its go statement, and an
// unrelated goroutine yielding into a scope it never mounted is racing
// with the owner anyway (a plain bool cannot tear).
func (s *Scope) lastMounted() *cont {
	if k := s.last.Load(); k != nil && k.isMounted() {
		return k
	}
	return nil
}
