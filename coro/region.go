package coro

import (
	"fmt"
	"sync"

	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/internal/gabi"
)

// Region runs fn pinned to its thread (ctx.Region): Raw coroutines can be
// created and run only inside it, on the goroutine that entered it, and do
// not outlive it. Raw coroutines still suspended when fn returns are
// discarded without running their deferred calls, and Region then panics
// naming how many were left.
//
// See the package documentation for what code inside a region must not
// do; each of those ends the process with a fatal error. A Region inside a
// Region is part of the outer one.
func Region(fn func()) {
	if ctx.InRegion() {
		fn()
		return
	}
	g := uintptr(gabi.G())
	r := &region{}
	regions.Store(g, r) // before pinning: Store may take a lock
	ctx.Region(fn)
	regions.Delete(g)
	r.freeDead()
	left := len(r.live)
	for len(r.live) > 0 {
		r.live[len(r.live)-1].discard()
	}
	if left > 0 {
		panic(fmt.Sprintf("coro: Region ended with %d Raw coroutine(s) still suspended: they were discarded without running their deferred calls", left))
	}
}

// region tracks the Raw coroutines of one Region.
type region struct {
	live []rawCore // not yet freed
	dead []rawCore // finished, their stacks still to free
}

// rawCore is what a region needs of a rawCoro of any type.
type rawCore interface {
	free()    // of a finished coroutine
	discard() // of one still suspended at the Region's end
	setIndex(int)
	getIndex() int
}

// freeDead frees the stacks of coroutines that have finished since. It
// runs on a stack other than theirs: theirs are no longer in use.
func (reg *region) freeDead() {
	for _, c := range reg.dead {
		c.free()
	}
	clear(reg.dead)
	reg.dead = reg.dead[:0]
}

func (r *rawCoro[In, Out]) setIndex(i int) { r.index = i }
func (r *rawCoro[In, Out]) getIndex() int  { return r.index }

func (reg *region) add(c rawCore) {
	c.setIndex(len(reg.live))
	reg.live = append(reg.live, c)
}

func (reg *region) remove(c rawCore) {
	i, last := c.getIndex(), len(reg.live)-1
	reg.live[i] = reg.live[last]
	reg.live[i].setIndex(i)
	reg.live[last] = nil
	reg.live = reg.live[:last]
}

// regions maps a goroutine (its g) to the Region it is in. Loads are
// lock-free, so New may look up its region while pinned.
var regions sync.Map

func currentRegion() *region {
	if !ctx.InRegion() {
		return nil
	}
	r, _ := regions.Load(uintptr(gabi.G()))
	reg, _ := r.(*region)
	return reg
}
