package ctx

import (
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/corokit/corokit/internal/gabi"
	"github.com/corokit/corokit/internal/testproc"
	"github.com/corokit/corokit/stackalloc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A region whose goroutine is found on another thread at its end throws.
// The record is forged here: a real move takes a forbidden system call and
// a scheduler that finds no free P (fact 21 in the shared notes; docs/design.md, section 4).
func TestRegionLeftItsThread(t *testing.T) {
	if testproc.IsChild(t) {
		g := gabi.G()
		r := enter(g)
		r.thread ^= 8
		r.leave(g)
		t.Fatal("survived")
	}
	r := testproc.Run(t)
	require.Error(t, r.Err, r.Output)
	assert.Contains(t, r.Output, "fatal error: ctx: the goroutine left its thread inside a Region")
}

// Switch reaches its assembly through a func value, for its arguments to
// arrive in registers; the probe sees what a caller passes that way.
func TestRegisterABI(t *testing.T) {
	var a, b Context
	gabi.FuncAt[func(a, b *Context)](abiProbePC())(&b, &a)
	want := abiRegs{uintptr(unsafe.Pointer(&b)), uintptr(unsafe.Pointer(&a)), uintptr(gabi.G())}
	assert.Equal(t, want, abiSeen, "first two argument registers, then g (zero on amd64 unless X15 was zero)")
	assert.NotPanics(t, checkRegisterABI)
}

// A handoff point must be a hook context of an Init'ed Handoff, and keeps
// the address of its runtime coroutine (setPoint), which Retire leaves
// alone: the turn check guards it.
func TestHandoffPoints(t *testing.T) {
	var h Handoff
	var plain, point Context
	assert.PanicsWithValue(t, "ctx: a handoff point must be a hook context (SetHook first)", func() { plain.SetResumePoint(&h) })
	point.SetHook(func() {})
	assert.PanicsWithValue(t, "ctx: a handoff point of a Handoff not yet Init'ed", func() { point.SetYieldPoint(&h) })

	coro := new([8]uintptr)
	h.Init(unsafe.Pointer(coro), func() {}, func() {})
	point.SetYieldPoint(&h)
	assert.Equal(t, uintptr(unsafe.Pointer(coro)), point.coro)
	assert.Equal(t, uintptr(kindYield), point.kind)
	h.Retire()
	assert.Nil(t, h.coro, "Retire lets go of the coroutine")
	assert.Equal(t, uintptr(unsafe.Pointer(coro)), point.coro, "the point's copy is an address Retire cannot reach")
}

// poisonSpill leaves its five register arguments in its caller's spill
// space: taking their addresses gives them homes there.
//
//go:noinline
func poisonSpill(a, b, c, d, e uintptr) uintptr {
	return *noEscape(&a) + *noEscape(&b) + *noEscape(&c) + *noEscape(&d) + *noEscape(&e)
}

//go:noinline
func noEscape(p *uintptr) *uintptr { return p }

// call clears its from slot before fn runs. A caller that reaches call
// through the register ABI, as continuation's Run does, leaves there only
// its spill space, whose stale words the collector would otherwise scan as
// a *Context while fn runs.
func TestCallClearsItsSlots(t *testing.T) {
	if testproc.RaceEnabled {
		t.Skip("under -race the instrumented calls between poisonSpill and call write the spill space: the test cannot poison it (the control fails)")
	}
	_, _, callPC, _, _ := textAddrs()
	callReg := gabi.FuncAt[func(fn func(Caller), from, to *Context, live, ok uintptr)](callPC)
	const stale = 0xdead_beef_0000
	var frame unsafe.Pointer
	var from, to uintptr
	fn := func(c Caller) {
		frame = c.frame
		from = *(*uintptr)(unsafe.Add(c.frame, 8))
		to = *(*uintptr)(unsafe.Add(c.frame, 16))
	}
	// call takes fn from the spill space, where run's slow way stores it;
	// poisonSpill puts it there as well.
	fnWord := *(*uintptr)(unsafe.Pointer(&fn))
	lo := *gabi.StackLo(gabi.G())
	poisonSpill(fnWord, 0, 0, 0, 0)
	callReg(fn, nil, nil, 0, 0) // learns where this frame's spill space is
	poisonSpill(fnWord, stale, stale, stale, stale)
	poisoned := *(*uintptr)(unsafe.Add(frame, 8))
	poisonSpill(fnWord, stale, stale, stale, stale)
	callReg(fn, nil, nil, 0, 0)
	runtime.KeepAlive(fn)
	require.Equal(t, lo, *gabi.StackLo(gabi.G()), "the stack moved: the frame address is stale")
	require.Equal(t, uintptr(stale), poisoned, "the control: poisonSpill left its arguments in the spill space")
	assert.Zero(t, from)
	assert.Zero(t, to)
}

// The switch's every way back to Switch's caller leaves true in the first
// result register (hookReturn), for callers that call its entry point as a
// function returning a bool, as continuation's Yield does: here a switch
// back from another stack, and a hook context's hook run in its place.
// (The handoff's landing pads are checked through Yield, in continuation.)
func TestSwitchResult(t *testing.T) {
	regs, _, _, _, _ := textAddrs()
	sw := gabi.FuncAt[func(from, to *Context) bool](regs)
	raw := func(ok bool) byte { return *(*byte)(unsafe.Pointer(&ok)) }
	var got []byte

	var from, hook Context
	hook.SetHook(func() {})
	got = append(got, raw(sw(&from, &hook)))

	s, err := stackalloc.Default.Alloc(16 << 10)
	require.NoError(t, err)
	defer stackalloc.Default.Free(s)
	var parent, child Context
	Init(&child, s, func() {
		for {
			got = append(got, raw(sw(&child, &parent)))
		}
	})
	Region(func() {
		for i := 0; i < 3; i++ {
			got = append(got, raw(sw(&parent, &child)))
		}
	})
	assert.Equal(t, []byte{1, 1, 1, 1, 1, 1}, got, "hook, then the parent's three switches and the child's two")
}

// Region's entry yields while a collection marks, and no longer than
// regionGCWait (letCollectionFinish, with gabi.GCMarking in Region). Here
// the flag is faked: a collection that ends after three looks, one that
// does not end, and none.
func TestLetCollectionFinish(t *testing.T) {
	looks := 0
	endsAfter := func(n int) func() bool {
		looks = 0
		return func() bool { looks++; return looks <= n }
	}
	assert.Equal(t, 0, letCollectionFinish(endsAfter(0), time.Hour), "no collection: no yield")
	assert.Equal(t, 1, looks)
	assert.Equal(t, 2, letCollectionFinish(endsAfter(3), time.Hour), "yields until the mark phase ends")
	start := time.Now()
	yields := letCollectionFinish(func() bool { return true }, 5*time.Millisecond)
	assert.GreaterOrEqual(t, time.Since(start), 5*time.Millisecond, "gives up only at the deadline")
	assert.Positive(t, yields)
}
