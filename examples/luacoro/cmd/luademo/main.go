// Command luademo runs a Lua script that yields from inside a table.sort
// comparator and from a Go callback that calls Lua: first on stock
// gopher-lua, which refuses, then with luacoro, where each Lua coroutine
// is a corokit continuation.
//
//	go run ./examples/luacoro/cmd/luademo
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/corokit/corokit/examples/luacoro"
	lua "github.com/yuin/gopher-lua"
)

const script = `
	-- A coroutine that sorts, reporting every comparison as it goes.
	local sorter = coroutine.wrap(function(t)
		table.sort(t, function(a, b)
			coroutine.yield(a .. " vs " .. b) -- from inside table.sort, a Go function
			return a < b
		end)
		return "sorted: " .. table.concat(t, " ")
	end)
	local v = sorter({"pear", "apple", "fig", "kiwi"})
	while not v:find("^sorted") do
		print("  compare " .. v)
		v = sorter()
	end
	print("  " .. v)

	-- A Go function (each) that calls back into Lua, which yields.
	local visits = coroutine.wrap(function()
		each({"one", "two", "three"}, function(x) coroutine.yield(x) end)
	end)
	for i = 1, 3 do print("  Go callback yielded " .. visits()) end
`

// each calls fn (a Lua function) for every element of a table, from Go.
func each(L *lua.LState) int {
	t, fn := L.CheckTable(1), L.CheckFunction(2)
	t.ForEach(func(_, v lua.LValue) {
		if err := L.CallByParam(lua.P{Fn: fn, Protect: true}, v); err != nil {
			L.RaiseError("%v", err)
		}
	})
	return 0
}

func run(name string, withLuacoro bool) error {
	fmt.Println(name + ":")
	L := lua.NewState()
	defer L.Close()
	if withLuacoro {
		defer luacoro.Open(L).Close()
	}
	L.SetGlobal("each", L.NewFunction(each))
	return L.DoString(script)
}

func main() {
	if err := run("stock gopher-lua", false); err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		fmt.Println("  error:", msg)
	}
	fmt.Println()
	if err := run("gopher-lua with luacoro (continuations)", true); err != nil {
		fmt.Fprintln(os.Stderr, "luademo:", err)
		os.Exit(1)
	}
}
