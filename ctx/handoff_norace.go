//go:build !race && !msan && !asan

package ctx

const buildWhyOff = ""
