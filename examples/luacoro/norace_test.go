//go:build !race

package luacoro_test

// stackFactor: see race_test.go.
const stackFactor = 1
