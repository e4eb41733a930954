package coro_test

import (
	"fmt"
	"iter"
	"strings"

	"github.com/corokit/corokit/coro"
)

// A coroutine that keeps a running total: each Resume passes a number in,
// each Yield passes the total out.
func ExampleNew() {
	total := coro.New(func(c *coro.Coro[int, int], in int) int {
		sum := 0
		for in != 0 {
			sum += in
			in = c.Yield(sum)
		}
		return sum
	})
	for _, n := range []int{3, 4, 5} {
		sum, _ := total.Resume(n)
		fmt.Println("running total", sum)
	}
	sum, alive := total.Resume(0)
	fmt.Println("final", sum, alive)
	// Output:
	// running total 3
	// running total 7
	// running total 12
	// final 12 false
}

// Yield works from any depth: here from inside a recursive tree walk.
func ExampleCoro_Yield() {
	type tree struct {
		left, right *tree
		val         string
	}
	t := &tree{&tree{nil, nil, "a"}, &tree{&tree{nil, nil, "c"}, nil, "d"}, "b"}
	walker := coro.New(func(c *coro.Coro[struct{}, string], _ struct{}) string {
		var walk func(*tree)
		walk = func(t *tree) {
			if t != nil {
				walk(t.left)
				c.Yield(t.val) // suspends the whole recursion
				walk(t.right)
			}
		}
		walk(t)
		return ""
	})
	var out []string
	for v, alive := walker.Resume(struct{}{}); alive; v, alive = walker.Resume(struct{}{}) {
		out = append(out, v)
	}
	fmt.Println(strings.Join(out, " "))
	// Output: a b c d
}

// Pull turns a push iterator into a pull one; with the Raw engine it must
// run inside a Region.
func ExamplePull() {
	words := iter.Seq[string](func(yield func(string) bool) {
		for _, w := range strings.Fields("the quick brown fox") {
			if !yield(w) {
				return
			}
		}
	})
	var first []string
	coro.Region(func() {
		next, stop := coro.Pull(words, coro.WithEngine(coro.Raw))
		defer stop()
		for i := 0; i < 2; i++ {
			w, _ := next()
			first = append(first, w)
		}
	})
	for _, w := range first { // printed outside the Region, which makes no system calls
		fmt.Println(w)
	}
	// Output:
	// the
	// quick
}

// Raw coroutines live inside a Region, which pins the goroutine: pure
// computation only (no blocking, no system calls, no panics) and short.
func ExampleRegion() {
	var out []int
	coro.Region(func() {
		fib := coro.New(func(c *coro.Coro[struct{}, int], _ struct{}) int {
			a, b := 0, 1
			for {
				c.Yield(a)
				a, b = b, a+b
			}
		}, coro.WithEngine(coro.Raw))
		for i := 0; i < 10; i++ {
			v, _ := fib.Resume(struct{}{})
			out = append(out, v)
		}
		fib.Close() // Raw coroutines must not outlive their Region
	})
	fmt.Println(out) // outside the Region: printing makes a system call
	// Output: [0 1 1 2 3 5 8 13 21 34]
}
