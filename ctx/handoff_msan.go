//go:build msan

package ctx

const buildWhyOff = "an -msan build: the runtime's switch is left to instrument"
