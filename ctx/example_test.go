package ctx_test

import (
	"fmt"

	"github.com/corokit/corokit/ctx"
	"github.com/corokit/corokit/stackalloc"
)

// A generator of squares on its own stack, driven by hand with Switch.
func Example() {
	stack, err := stackalloc.Default.Alloc(64 << 10)
	if err != nil {
		panic(err)
	}
	defer stackalloc.Default.Free(stack)

	var main, gen ctx.Context
	var value int
	gen.Link = &main // where the generator goes when its function returns
	ctx.Init(&gen, stack, func() {
		for i := 1; i <= 3; i++ {
			value = i * i
			ctx.Switch(&gen, &main) // yield
		}
		value = -1
	})

	var squares []int
	ctx.Region(func() { // foreign stacks only inside a pinned region
		for {
			ctx.Switch(&main, &gen) // resume
			if value < 0 {
				break
			}
			squares = append(squares, value) // no printing here: a region makes no system calls
		}
	})
	for _, v := range squares {
		fmt.Println(v)
	}
	// Output:
	// 1
	// 4
	// 9
}

// Call lets a function decide, on the caller's behalf, whether to switch:
// here a yield that declines (Call returns false) once the generator is
// told to stop, and otherwise switches as the caller's own Switch would.
func ExampleCall() {
	stack, err := stackalloc.Default.Alloc(64 << 10)
	if err != nil {
		panic(err)
	}
	defer stackalloc.Default.Free(stack)

	var main, gen ctx.Context
	var value int
	stopping := false
	yield := func(c ctx.Caller) {
		if stopping {
			c.SetResult(false) // no switch: Call returns false
			return
		}
		c.Redirect(&gen, &main) // after this function returns
	}
	gen.Link = &main
	ctx.Init(&gen, stack, func() {
		for i := 1; ctx.Call(yield); i++ {
			value = i
		}
		value = -1
	})

	var seen []int
	ctx.Region(func() {
		ctx.Switch(&main, &gen) // runs to the first yield
		for i := 0; i < 3; i++ {
			ctx.Switch(&main, &gen)
			seen = append(seen, value)
		}
		stopping = true
		ctx.Switch(&main, &gen) // its yield declines; it returns to main through Link
		seen = append(seen, value)
	})
	for _, v := range seen { // printed outside the region, which makes no system calls
		fmt.Println(v)
	}
	// Output:
	// 1
	// 2
	// 3
	// -1
}
