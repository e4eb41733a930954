// Package luacoro is a Lua coroutine library for gopher-lua.
package luacoro

// DefaultRawStackSize is the stack size of a Raw-engine coroutine unless
// Open's options say otherwise.
const DefaultRawStackSize = 64 << 10
