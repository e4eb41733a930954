// Package luacoro is a Lua coroutine library for gopher-lua
// (github.com/yuin/gopher-lua) in which every coroutine runs inside a
// corokit continuation, so coroutine.yield works from any depth: inside
// pcall, a table.sort comparator, a string.gsub callback, a metamethod
// that a Go function calls, a Go function of yours that calls back into
// Lua. Stock gopher-lua yields across none of them, and C Lua 5.4 not
// across a C function such as table.sort or string.gsub.
//
//	L := lua.NewState()
//	defer L.Close()
//	luacoro.Open(L) // replaces the global coroutine table
//
// # The library
//
// It has Lua 5.1's functions (create, resume, yield, status, wrap,
// running), 5.2's isyieldable, and 5.4's close, which ends a suspended
// coroutine and returns true, or false and the error that killed it. It
// keeps gopher-lua's error messages ("can not resume a dead thread"), and
// raises a wrap function's errors as Lua 5.1 and 5.4 do: a string gets
// the position of the wrap function's caller in front if that caller is a
// Lua function, and nothing else (stock gopher-lua differs there).
// coroutine.running() returns nil in the main thread, as in 5.1.
//
// A coroutine's thread value is a handle: type(co) is "thread" and it
// prints and compares as one, but its body runs on a second thread that
// Lua code does not see, and the handle itself never runs code. Open makes
// debug.traceback, debug.getfenv and debug.setfenv, given a handle, act on
// the body's thread; gopher-lua's Go API for coroutines (LState.Resume,
// LState.Status) does not work on handles.
//
// # Cost
//
// A resume and a yield move their values straight between the two
// threads' stacks and allocate nothing; their cost is the engine's switch
// and a little bookkeeping (cmd/luabench compares them with stock
// gopher-lua). A coroutine costs a gopher-lua thread, as it does with
// stock gopher-lua (with the default Options, a registry of 5,120 values
// and 256 call frames, about 100 KiB), plus a goroutine (Goroutine engine)
// or a stack of DefaultRawStackSize, resident only as far as it is used
// (Raw engine).
//
// # Ending coroutines
//
// With the Goroutine engine (the default) a suspended coroutine is a
// parked goroutine. It ends when its thread value, and any wrap function
// of it, become unreachable: the Go garbage collector finds them so and
// corokit closes the continuation (runtime.AddCleanup), whether or not
// L.Close is called. Library.Close and coroutine.close end coroutines at
// once. Ending runs no Lua code, whatever the Lua code does with pcall or
// a Go function with recover: the body's goroutine unwinds as with
// runtime.Goexit, so the deferred calls of Go functions on its stack run,
// and nothing can stop it. When the collector ends a coroutine, those
// deferred calls run on the coroutine's goroutine while the Lua state may
// be in use elsewhere: they must touch nothing but their own values. Lua
// code that a deferred call runs while its coroutine is being ended fails
// (the coroutine's threads have no globals then), and a yield there
// returns nothing without suspending.
//
// A parked goroutine's stack is a root for the collector, so a coroutine
// whose own suspended stack leads back to its handle cannot become
// unreachable: one that keeps coroutine.running() in a local, a wrap
// generator whose function refers to the wrap function, two coroutines
// suspended holding each other. They live until Library.Close or
// coroutine.close ends them. Nothing else on a suspended stack keeps a
// coroutine alive: luacoro takes the globals, and through them the main
// thread, away from a coroutine's threads while it is suspended, since
// gopher-lua keeps the functions that returned calls ran in its call-frame
// array (a wrap function among them) until another call replaces them.
//
// # The Raw engine
//
// Open(L, coro.WithEngine(coro.Raw)) runs every coroutine on a stack of
// its own in the calling goroutine, which is faster and only sound inside
// coro.Region, under that package's rules (see the corokit README). For
// Lua that means:
//
//   - Lua runs inside coro.Region, and Raw coroutines cannot outlive it:
//     call Library.Close before the Region ends (Region panics, naming how
//     many, if a coroutine is left suspended). Keep Regions short: each
//     holds up every garbage collection and stop-the-world of the process.
//     Lua allocates, so collections come often; a Region lets one that is
//     marking when it begins finish first, so a collection waits for a
//     Region only when another goroutine starts it while the Region runs
//     (a Region never starts one itself). On a producer/consumer the Raw
//     engine measured 1.12x stock gopher-lua (the median of 9 runs;
//     1.00x-1.26x) and 0.97x-1.01x with GOMAXPROCS=1 (cmd/luabench;
//     docs/design.md, section 4).
//   - No Lua error may be raised, not even one that pcall catches:
//     gopher-lua raises errors as Go panics, and a panic inside a Region is
//     "fatal error: panic holding locks".
//   - No file loading (dofile, loadfile, require of a file,
//     LState.DoFile) and no io or print to a file or terminal: their system
//     calls end the process with "fatal error: stopm holding locks" (or
//     "traceback did not unwind completely") when a collection runs
//     meanwhile. Load chunks before entering the Region; replace print.
//   - Nothing that may wait for a lock: gopher-lua formats numbers
//     (tostring, .., string.format, print) with fmt, whose sync.Pool takes
//     a mutex after each collection; if another goroutine holds it at that
//     moment the process ends with "fatal error: schedule: holding locks".
//     Rare, and fatal when it happens: keep the Raw engine for code that
//     formats no numbers, or accept that risk.
//   - Each stack has a fixed size (DefaultRawStackSize unless
//     coro.WithStackSize says otherwise); overflowing it ends the process
//     with "fatal error: stack size not a power of 2". Lua-to-Lua calls
//     take none of it. Every Go function that calls back into Lua takes
//     about 1 KiB per nested level (measured on amd64 and arm64: pcall
//     0.95 KiB, a Go function calling Lua 0.85, a metamethod called from
//     Go 0.8, a table.sort comparator 1.25), and gopher-lua's pattern
//     matcher recurses once per character that a greedy item (x*, x+)
//     matches, about 210 bytes each; under the race detector, about 1.7
//     times all that. The default holds 150 nested levels of any of them,
//     or a greedy match over 1,000 characters (gopher-lua's default call
//     stack of 256 frames stops Lua first, at 128 levels or fewer: each
//     takes two frames or more). To size a stack, count 1.25 KiB per
//     nested level, 210 bytes per character of the longest greedy match,
//     and 8 KiB besides.
//
// Everything else belongs on the Goroutine engine, which runs any Lua and
// Go code, grows its stacks, and ends unreachable coroutines by itself.
package luacoro

// DefaultRawStackSize is the stack size of a Raw-engine coroutine unless
// Open's options set another with coro.WithStackSize. Only the pages a
// coroutine touches become resident.
const DefaultRawStackSize = 256 << 10
