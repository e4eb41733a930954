//go:build !go1.26 || go1.27

package gabi

// corokit reads the runtime's private g struct at fixed offsets, recorded
// per Go release in offsets_go*.go. This Go release has no such file, so the
// build stops here instead of running on wrong offsets. To add a release,
// copy the newest offsets file, check each offset against runtime/runtime2.go
// and run the internal/gabi tests.
var _ = corokit_does_not_support_this_Go_release__add_offsets_in_internal_gabi
