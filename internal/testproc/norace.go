//go:build !race

package testproc

// RaceEnabled reports whether this is a -race build, where everything
// runs five to ten times slower.
const RaceEnabled = false
