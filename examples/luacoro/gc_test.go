package luacoro_test

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"
)

// tortured keeps tables and strings only in suspended coroutines' frames,
// and checks them after each resume.
const tortured = `
	local gens = {}
	for i = 1, 30 do
		gens[i] = coroutine.wrap(function()
			local t = {}
			for j = 1, 20 do t[j] = string.rep("x", j) .. "/" .. i end
			local s = table.concat(t, ",")
			for k = 1, 10 do
				local u = {s = s, t = t, k = k}
				coroutine.yield(u)
				assert(u.s == s and u.k == k and #u.t == 20)
				assert(u.t[20] == string.rep("x", 20) .. "/" .. i)
			end
			return "done"
		end)
	end
	for round = 1, 11 do
		for i = 1, #gens do gens[i]() end
	end
`

// Coroutines on both engines under the collector's harshest checks: a
// child process with GODEBUG=clobberfree=1 (freed memory is overwritten)
// and a collector loop, until the loop has finished 20 collections.
// Values that lived only in a suspended coroutine's frames, or in its
// threads, would be found overwritten.
func TestGCTorture(t *testing.T) {
	for _, engine := range []string{"goroutine", "raw"} {
		t.Run(engine, func(t *testing.T) {
			if !isChild(t) {
				out, err := runChild(t, 5*time.Minute, "GODEBUG=clobberfree=1")
				require.NoError(t, err, "%s", lastLines(out, 30))
				require.Contains(t, out, "--- PASS")
				t.Log(regexp.MustCompile(`\d+ runs, \d+ collections`).FindString(out))
				return
			}
			cycles, stop := gcLoop()
			defer stop()
			L := lua.NewState()
			defer L.Close()
			fn, err := L.LoadString(tortured)
			require.NoError(t, err)
			runs := 0
			for ; runs < 20 || cycles() < 20; runs++ {
				require.NoError(t, callWithLuacoro(L, fn, 0, engine == "raw"))
			}
			fmt.Printf("%d runs, %d collections\n", runs, cycles())
		})
	}
}
