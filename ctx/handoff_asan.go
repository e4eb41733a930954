//go:build asan

package ctx

const buildWhyOff = "an -asan build: the runtime's switch is left to instrument"
