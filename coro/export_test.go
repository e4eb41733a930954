package coro

import (
	"errors"
	"unsafe"
)

// SetRuntimeSwitch makes every later switch of a Goroutine-engine
// coroutine go through iter.Pull (on) or through corokit's assembly where
// it may (off), as WithRuntimeSwitch does from the start.
func SetRuntimeSwitch[In, Out any](c *Coro[In, Out], on bool) { c.gor.h.SetSlow(on) }

// Fallbacks reports how many switches of a Goroutine-engine coroutine went
// through iter.Pull rather than through corokit's assembly.
func Fallbacks[In, Out any](c *Coro[In, Out]) int { return int(c.gor.h.Fallbacks()) }

// RuntimeCoro returns the *runtime.coro a Goroutine-engine coroutine
// switches through.
func RuntimeCoro[In, Out any](c *Coro[In, Out]) unsafe.Pointer { return c.gor.pull.Coro }

// WithoutPullState runs f with the Goroutine engine as it runs where gabi
// cannot verify iter.Pull's state: every switch through iter.Pull, and
// Close's Goexit on a goroutine of its own.
func WithoutPullState(f func()) {
	old := probePull
	probePull = func() error { return errors.New("iter.Pull's state not verified (test)") }
	defer func() { probePull = old }()
	f()
}

// UsesPullState reports whether a Goroutine-engine coroutine reaches
// iter.Pull's state (and so may switch in assembly).
func UsesPullState[In, Out any](c *Coro[In, Out]) bool { return c.gor.pullOK }
