package luacoro_test

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"
)

// gopherLuaMessages are where what gopher-lua with luacoro prints differs
// from Lua 5.4, all of them gopher-lua's own wording, which luacoro keeps:
// each is rewritten in gopher-lua's output to 5.4's. Every one must be
// used by some script (TestAgainstLua54 checks), so that none outlives
// its reason.
var gopherLuaMessages = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`can not resume a dead thread`), "cannot resume dead coroutine"},
	{regexp.MustCompile(`can not resume a running thread`), "cannot resume non-suspended coroutine"},
	{regexp.MustCompile(`can not yield from outside of a coroutine`), "attempt to yield from outside a coroutine"},
	// gopher-lua does not quote the function's name
	{regexp.MustCompile(`bad argument #(\d+) to (\w+) \(`), "bad argument #$1 to '$2' ("},
}

// rawSafe are the scripts that raise no Lua error (one is a Go panic,
// fatal inside a Region), which therefore also run on the Raw engine.
var rawSafe = map[string]bool{"basics.lua": true, "status.lua": true, "metamethods.lua": true, "programs.lua": true}

// TestAgainstLua54 runs each script in testdata/differential with Lua 5.4
// (Debian's lua5.4, the reference interpreter) and with gopher-lua and
// luacoro, on each engine, and compares what they print, after
// gopherLuaMessages. The scripts cover every function of Lua 5.4's
// coroutine library. They leave out, on purpose, what differs between
// gopher-lua (a Lua 5.1) and 5.4 outside luacoro, or what 5.4 refuses
// and luacoro allows:
//
//   - coroutine.running() in the main thread (5.4: the main thread and
//     true; gopher-lua, as 5.1: nil), and running's second result (5.4
//     only);
//   - error levels above 1, and error(nil): gopher-lua's VM places and
//     words them differently;
//   - division and other float results (gopher-lua has no integers: 10/2
//     prints 5, 5.4 prints 5.0), and table.unpack (5.1: unpack);
//   - closing a coroutine that died in error a second time (5.4.4 returns
//     the error again, 5.4.6 true); luacoro returns it again;
//   - yields across Go (5.4: C) functions such as table.sort and
//     string.gsub, and isyieldable inside them: 5.4 refuses them
//     (TestYieldAcrossGoFunctions covers them);
//   - resumes nested deeper than about 195: 5.4's C stack limit;
//   - to-be-closed variables (5.4 syntax, which gopher-lua cannot parse);
//   - a generic for whose body is only `break`, after an earlier loop:
//     gopher-lua v1.1.2 compiles it wrong, coroutines or not.
//
// lua5.4 runs as a host program: under qemu-user (the arm64 test run) the
// emulated test binary still executes it natively.
func TestAgainstLua54(t *testing.T) {
	lua54, err := exec.LookPath("lua5.4")
	if err != nil {
		t.Skipf("no reference interpreter (%v): install Debian's lua5.4 (.ci/run does)", err)
	}
	dir, err := filepath.Abs("testdata/differential")
	require.NoError(t, err)
	scripts, err := filepath.Glob(filepath.Join(dir, "*.lua"))
	require.NoError(t, err)
	require.NotEmpty(t, scripts)
	used := make([]bool, len(gopherLuaMessages))
	for _, path := range scripts {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(lua54, name)
			cmd.Dir = dir
			want, err := cmd.CombinedOutput()
			require.NoError(t, err, "lua5.4 %s:\n%s", name, want)
			t.Chdir(dir) // so that both name the chunk as lua5.4 does
			engines := []string{"goroutine"}
			if rawSafe[name] {
				engines = append(engines, "raw")
			}
			for _, engine := range engines {
				got := runFile(t, name, engine == "raw")
				for i, m := range gopherLuaMessages {
					if m.re.MatchString(got) {
						used[i] = true
						got = m.re.ReplaceAllString(got, m.repl)
					}
				}
				assert.Equal(t, string(want), got, "%s on the %s engine", name, engine)
			}
		})
	}
	for i, u := range used {
		assert.True(t, u, "no script needs the rewrite of %q: remove it", gopherLuaMessages[i].re)
	}
}

// runFile runs a Lua file with luacoro and returns what it printed. The
// file is loaded before a Raw engine's Region (reading a file there is a
// system call the Region forbids).
func runFile(t *testing.T, name string, raw bool) string {
	L := lua.NewState()
	defer L.Close()
	var out strings.Builder
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		for i := 1; i <= L.GetTop(); i++ {
			if i > 1 {
				out.WriteByte('\t')
			}
			out.WriteString(L.ToStringMeta(L.Get(i)).String())
		}
		out.WriteByte('\n')
		return 0
	}))
	fn, err := L.LoadFile(name)
	require.NoError(t, err)
	require.NoError(t, callWithLuacoro(L, fn, 0, raw))
	return out.String()
}
