package stackalloc

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corokit/corokit/internal/testproc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// isPowerOfTwo checks the promise in the package doc: Hi-Lo never is one.
func isPowerOfTwo(n uintptr) bool { return bits.OnesCount64(uint64(n)) == 1 }

func TestAllocSizes(t *testing.T) {
	a := New()
	for _, size := range []int{1, 100, 4096 - 64, 4096, 8192, 16 << 10, 64 << 10, 1 << 20, 1<<20 + 1} {
		s, err := a.Alloc(size)
		require.NoError(t, err, "size %d", size)
		assert.GreaterOrEqual(t, s.Size(), size)
		assert.False(t, isPowerOfTwo(uintptr(s.Size())), "size %d: Hi-Lo=%d is a power of two", size, s.Size())
		assert.Zero(t, s.Hi%16, "Hi must be 16-byte aligned for both ABIs")
		b := s.Bytes()
		b[0], b[len(b)-1] = 1, 2 // the whole range is writable
		a.Free(s)
	}
}

func TestAllocRejectsBadSizes(t *testing.T) {
	a := New()
	for _, size := range []int{0, -1, -1 << 40, MaxSize + 1, 1 << 50} {
		_, err := a.Alloc(size)
		require.ErrorIs(t, err, ErrInvalidSize, "size %d", size)
		assert.Contains(t, err.Error(), strconv.Itoa(size))
	}
	assert.Equal(t, Stats{Guard: GuardAuto, Mappings: 0}, a.Stats(), "a rejected Alloc must not reserve anything")
}

func TestStacksAreDisjoint(t *testing.T) {
	a := New(WithReservation(1 << 20))
	var stacks []Stack
	for i := 0; i < 200; i++ {
		s, err := a.Alloc(16 << 10)
		require.NoError(t, err)
		stacks = append(stacks, s)
	}
	for i, s := range stacks {
		for _, o := range stacks[i+1:] {
			require.False(t, s.Lo < o.Hi && o.Lo < s.Hi, "stacks %d overlap", i)
			// the guard of each lies outside every other's usable range
			require.False(t, s.Lo-pageSize < o.Hi && o.Lo < s.Lo)
		}
	}
	for _, s := range stacks {
		a.Free(s)
	}
}

func TestPoolReusesAndReturnsMemory(t *testing.T) {
	a := New(WithPoolSize(2))
	var stacks []Stack
	for i := 0; i < 6; i++ {
		s, err := a.Alloc(16 << 10)
		require.NoError(t, err)
		b := s.Bytes()
		for j := range b { // make every page resident
			b[j] = 1
		}
		stacks = append(stacks, s)
	}
	st := a.Stats()
	assert.Equal(t, 6, st.Live)
	assert.GreaterOrEqual(t, st.ResidentBytes, int64(6*stacks[0].Size()))
	resident := st.ResidentBytes

	for _, s := range stacks {
		a.Free(s)
	}
	st = a.Stats()
	assert.Equal(t, 0, st.Live)
	assert.Equal(t, 2, st.Pooled, "the pool is bounded by WithPoolSize")
	// The four beyond the pool gave their pages back.
	assert.LessOrEqual(t, st.ResidentBytes, resident-int64(4*stacks[0].Size()))

	// The most recently pooled stack comes back first, pages intact.
	s, err := a.Alloc(16 << 10)
	require.NoError(t, err)
	assert.Equal(t, stacks[1].Lo, s.Lo)
	assert.Equal(t, byte(1), s.Bytes()[0])
	assert.Equal(t, 1, a.Stats().Pooled)
}

func TestMappingsFromProcMaps(t *testing.T) {
	countAll := func() int {
		b, err := os.ReadFile("/proc/self/maps")
		require.NoError(t, err)
		return len(regexp.MustCompile(`(?m)^`).FindAllIndex(b, -1))
	}
	// The process-wide count moves with the runtime's own mappings too (and
	// the race detector's): it bounds what 1,000 stacks added from above.
	// Stats.Mappings counts exactly the mappings over the reservations.
	for _, tc := range []struct {
		guard          GuardMode
		maxAdded       int // process-wide
		minOwn, maxOwn int // Stats.Mappings
	}{
		{GuardAuto, 8, 1, 2}, // one or two reservations; guards add none
		{GuardNone, 8, 1, 2},
		{GuardMprotect, 2010, 1999, 2002}, // each guard splits the reservation: two per stack
	} {
		t.Run(tc.guard.String(), func(t *testing.T) {
			a := New(WithGuard(tc.guard))
			before := countAll()
			var stacks []Stack
			for i := 0; i < 1000; i++ {
				s, err := a.Alloc(16 << 10)
				require.NoError(t, err)
				stacks = append(stacks, s)
			}
			added := countAll() - before
			st := a.Stats()
			t.Logf("guard %v (in effect: %v): 1000 stacks added %d mappings; Stats.Mappings=%d", tc.guard, st.Guard, added, st.Mappings)
			if tc.guard == GuardAuto && st.Guard == GuardMprotect {
				t.Logf("this kernel (or emulator) has no working MADV_GUARD_INSTALL: auto fell back to mprotect")
				tc.maxAdded, tc.minOwn, tc.maxOwn = 2010, 1999, 2002
			}
			assert.LessOrEqual(t, added, tc.maxAdded)
			assert.GreaterOrEqual(t, st.Mappings, tc.minOwn)
			assert.LessOrEqual(t, st.Mappings, tc.maxOwn)
			for _, s := range stacks {
				a.Free(s)
			}
		})
	}
}

func TestGuardFaults(t *testing.T) {
	for _, mode := range []GuardMode{GuardAuto, GuardMprotect} {
		t.Run(mode.String(), func(t *testing.T) {
			if testproc.IsChild(t) {
				s, err := New(WithGuard(mode)).Alloc(16 << 10)
				require.NoError(t, err)
				fmt.Printf("guard byte at %#x\n", s.Lo-1)
				s.Bytes()[:1][0] = 1                              // usable: fine
				(*[1 << 20]byte)(unsafe_Pointer(s.Lo - 1))[0] = 1 // the guard
				t.Fatal("writing the guard byte did not fault")
			}
			r := testproc.Run(t)
			require.Error(t, r.Err, "the child survived a write to its guard:\n%s", r.Output)
			m := regexp.MustCompile(`guard byte at (0x[0-9a-f]+)`).FindStringSubmatch(r.Output)
			require.NotNil(t, m, r.Output)
			assert.Contains(t, r.Output, "signal SIGSEGV")
			assert.Contains(t, r.Output, "addr="+m[1], "the fault must be at the guard byte")
		})
	}
}

// TestMaxMapCountError exhausts the process's mappings with mprotect
// guards in a child (it leaves the process unable to map anything) and
// checks that the error names the sysctl and its value.
func TestMaxMapCountError(t *testing.T) {
	if testproc.IsChild(t) {
		// Grow the heap first: once mappings run out, the Go runtime (and the
		// race detector's shadow memory) can no longer grow it.
		ballast := make([]byte, 256<<20)
		ballast[len(ballast)-1] = 1
		ballast = nil
		runtime.GC()
		// Start spare threads too: a thread's stack is a mapping, and a
		// runtime that must start one after they ran out dies ("fatal
		// error: newosproc"; once in four -race runs). Threads stay, idle,
		// once their goroutines unlock them.
		var spare sync.WaitGroup
		for i := 0; i < 8; i++ {
			spare.Add(1)
			go func() {
				defer spare.Done()
				runtime.LockOSThread()
				time.Sleep(20 * time.Millisecond)
				runtime.UnlockOSThread()
			}()
		}
		spare.Wait()
		a := New(WithGuard(GuardMprotect), WithReservation(1<<30))
		for i := 0; ; i++ {
			_, err := a.Alloc(4 << 10)
			if err != nil {
				fmt.Printf("after %d stacks: %v\n", i, err)
				require.ErrorIs(t, err, unix.ENOMEM)
				var me *MapError
				require.True(t, errors.As(err, &me))
				return
			}
		}
	}
	max, err := os.ReadFile("/proc/sys/vm/max_map_count")
	require.NoError(t, err)
	r := testproc.Run(t)
	if testproc.Emulated() && r.Status.Signaled() && !strings.Contains(r.Output, "after ") && !strings.Contains(r.Output, "goroutine ") {
		// qemu-user maps memory for itself within the same vm.max_map_count,
		// so once the child has used the mappings up the emulator may die of
		// a signal of its own, before the child prints anything and with no
		// Go traceback (once in a CI run; 0 of 44 runs here).
		t.Skipf("qemu-user died of %v once the mappings ran out, before the child said anything: the emulator's failure, not stackalloc's (output: %q)", r.Status.Signal(), r.Output)
	}
	require.NoError(t, r.Err, r.Output)
	assert.Contains(t, r.Output, "vm.max_map_count is "+string(max[:len(max)-1]))
	assert.Contains(t, r.Output, "mprotect guards cost two mappings per stack")
	t.Log(regexp.MustCompile(`after .*`).FindString(r.Output))
}

// TestBeyondMaxMapCount holds more guarded stacks than vm.max_map_count
// would allow with one mprotect guard each (two mappings per stack).
func TestBeyondMaxMapCount(t *testing.T) {
	const n = 100_000
	a := New()
	first, err := a.Alloc(16 << 10)
	require.NoError(t, err)
	a.Free(first)
	if a.Stats().Guard == GuardMprotect {
		t.Skip("no working MADV_GUARD_INSTALL here (auto fell back to mprotect, as under qemu-user 7.2): 100,000 mprotect guards need 200,000 mappings")
	}
	stacks := make([]Stack, n)
	for i := range stacks {
		s, err := a.Alloc(16 << 10)
		require.NoError(t, err)
		s.Bytes()[s.Size()-1] = 1 // touch the top page, as a coroutine would
		stacks[i] = s
	}
	st := a.Stats()
	t.Logf("%d live 16 KiB stacks, guard %v: reserved %d MiB, resident %d MiB, %d mappings",
		n, st.Guard, st.ReservedBytes>>20, st.ResidentBytes>>20, st.Mappings)
	assert.Equal(t, n, st.Live)
	assert.GreaterOrEqual(t, st.ResidentBytes, int64(n)*int64(pageSize))
	assert.Less(t, st.Mappings, 1000)
	for _, s := range stacks {
		a.Free(s)
	}
	assert.Equal(t, 0, a.Stats().Live)
}

func TestFreeMisuse(t *testing.T) {
	a, b := New(), New()
	s, err := a.Alloc(8 << 10)
	require.NoError(t, err)
	assert.PanicsWithValue(t, "stackalloc: Free of the zero Stack", func() { a.Free(Stack{}) })
	assert.PanicsWithValue(t, "stackalloc: Free of a stack that belongs to another Allocator", func() { b.Free(s) })
	a.Free(s)
	assert.PanicsWithValue(t, fmt.Sprintf("stackalloc: Free of stack [%#x, %#x) that is not allocated (freed twice?)", s.Lo, s.Hi),
		func() { a.Free(s) })
}

func TestOptionsRejectNonsense(t *testing.T) {
	assert.Panics(t, func() { WithGuard(GuardMode(9)) })
	assert.Panics(t, func() { WithGuardSize(0) })
	assert.Panics(t, func() { WithPoolSize(-1) })
	assert.Panics(t, func() { WithReservation(0) })
}

// FuzzAllocFree runs alloc/free sequences against a model of the live and
// pooled counts, and checks that live stacks keep what was written to them.
func FuzzAllocFree(f *testing.F) {
	f.Add([]byte{0, 1, 2, 128, 129, 3, 130})
	f.Add([]byte{5, 5, 5, 5, 200, 201, 202, 203, 5, 5})
	f.Fuzz(func(t *testing.T, ops []byte) {
		const pool = 3
		a := New(WithPoolSize(pool), WithReservation(256<<10))
		var live []Stack
		pooled := map[int]int{} // by size class (its usable size)
		sizes := []int{1, 8 << 10, 20 << 10}
		for _, op := range ops {
			if op < 128 || len(live) == 0 {
				size := sizes[int(op)%len(sizes)]
				s, err := a.Alloc(size)
				require.NoError(t, err)
				if pooled[s.Size()] > 0 {
					pooled[s.Size()]--
				}
				b := s.Bytes()
				b[0], b[len(b)-1] = byte(len(live)), byte(s.Lo)
				live = append(live, s)
			} else {
				i := int(op) % len(live)
				s := live[i]
				b := s.Bytes()
				require.Equal(t, byte(s.Lo), b[len(b)-1], "stack contents changed while live")
				a.Free(s)
				live = append(live[:i], live[i+1:]...)
				pooled[s.Size()] = min(pooled[s.Size()]+1, pool)
			}
			st := a.Stats()
			require.Equal(t, len(live), st.Live)
			want := 0
			for _, n := range pooled {
				want += n
			}
			require.Equal(t, want, st.Pooled)
		}
	})
}

// BenchmarkMillionStacks holds 1,000,000 live guarded 16 KiB stacks with
// one page touched in each, and reports what they cost: run it with
// -benchtime 1x (each iteration allocates the million).
func BenchmarkMillionStacks(b *testing.B) {
	const n = 1_000_000
	for range b.N {
		a := New()
		stacks := make([]Stack, n)
		for i := range stacks {
			s, err := a.Alloc(16 << 10)
			if err != nil {
				b.Fatalf("stack %d: %v", i, err)
			}
			s.Bytes()[s.Size()-1] = 1
			stacks[i] = s
		}
		st := a.Stats()
		b.ReportMetric(float64(st.ResidentBytes)/n, "resident-B/stack")
		b.ReportMetric(float64(st.ReservedBytes)/n, "reserved-B/stack")
		b.ReportMetric(float64(st.Mappings), "mappings")
		b.ReportMetric(float64(maxMapCount(make([]byte, 64))), "max_map_count")
		b.Logf("%d live stacks, guard %v: %d MiB resident, %d GiB reserved, %d mappings",
			st.Live, st.Guard, st.ResidentBytes>>20, st.ReservedBytes>>30, st.Mappings)
		for _, s := range stacks {
			a.Free(s)
		}
	}
}
