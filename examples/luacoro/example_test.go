package luacoro_test

import (
	"fmt"

	"github.com/corokit/corokit/coro"
	"github.com/corokit/corokit/examples/luacoro"
	lua "github.com/yuin/gopher-lua"
)

// A coroutine yields from inside table.sort's comparator, a Go function,
// which stock gopher-lua refuses.
func Example() {
	L := lua.NewState()
	defer L.Close()
	luacoro.Open(L)
	err := L.DoString(`
		local sorter = coroutine.wrap(function(t)
			table.sort(t, function(a, b)
				coroutine.yield(a .. " vs " .. b)
				return a < b
			end)
			return "sorted: " .. table.concat(t, " ")
		end)
		local v = sorter({"pear", "fig", "apple"})
		local comparisons = 0
		while not v:find("^sorted") do
			comparisons = comparisons + 1
			v = sorter()
		end
		print(v, comparisons > 0)`)
	if err != nil {
		fmt.Println(err)
	}
	// Output: sorted: apple fig pear	true
}

// The Raw engine runs coroutines on stacks of the calling goroutine's own,
// inside a coro.Region; they must end before it does.
func Example_raw() {
	L := lua.NewState()
	defer L.Close()
	fn, err := L.LoadString(`
		local squares = coroutine.wrap(function()
			for i = 1, 10 do coroutine.yield(i * i) end
		end)
		local sum = 0
		for i = 1, 5 do sum = sum + squares() end
		return sum`)
	if err != nil {
		fmt.Println(err)
		return
	}
	var sum lua.LValue
	coro.Region(func() {
		lib := luacoro.Open(L, coro.WithEngine(coro.Raw))
		defer lib.Close() // squares is still suspended
		L.Push(fn)
		if err = L.PCall(0, 1, nil); err == nil {
			sum = L.Get(-1)
			L.Pop(1)
		}
	})
	fmt.Println(sum, err)
	// Output: 55 <nil>
}
