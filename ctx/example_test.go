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

	ctx.Region(func() { // foreign stacks only inside a pinned region
		for {
			ctx.Switch(&main, &gen) // resume
			if value < 0 {
				break
			}
			fmt.Println(value)
		}
	})
	// Output:
	// 1
	// 4
	// 9
}
