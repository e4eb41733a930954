// Package procfs reads small /proc files with raw system calls: no
// allocation when given a buffer, and no scheduler-visible system call, so
// that it works inside a pinned region (see package coro) and when the
// process has run out of memory mappings.
package procfs

import (
	"bytes"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"

	// Off linux/amd64 and linux/arm64 with a supported Go release, gabi's
	// build fails with one error that names where corokit runs; importing
	// it keeps this package's own errors out of that report.
	_ "github.com/corokit/corokit/internal/gabi"
)

// Scan passes the contents of path to f, a buffer's worth at a time,
// reading into buf.
func Scan(path string, buf []byte, f func([]byte)) error {
	var name [64]byte
	if len(path) >= len(name) {
		return unix.ENAMETOOLONG
	}
	copy(name[:], path)
	fd, _, errno := unix.RawSyscall6(unix.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(&name[0])), unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
	if errno != 0 {
		return errno
	}
	defer unix.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
	for {
		n, _, errno := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return errno
		}
		if n == 0 {
			return nil
		}
		f(buf[:n])
	}
}

// ReadFile returns the contents of path.
func ReadFile(path string) ([]byte, error) {
	var out []byte
	err := Scan(path, make([]byte, 16<<10), func(b []byte) { out = append(out, b...) })
	return out, err
}

// Mappings counts the process's memory mappings (lines of /proc/self/maps).
func Mappings(buf []byte) int {
	n := 0
	if Scan("/proc/self/maps", buf, func(b []byte) { n += bytes.Count(b, []byte("\n")) }) != nil {
		return -1
	}
	return n
}

// Memory returns the process's virtual and resident bytes (/proc/self/statm).
func Memory() (virtual, resident int64, err error) {
	b, err := ReadFile("/proc/self/statm")
	if err != nil {
		return 0, 0, err
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, 0, unix.EINVAL
	}
	v, _ := strconv.ParseInt(string(f[0]), 10, 64)
	r, _ := strconv.ParseInt(string(f[1]), 10, 64)
	page := int64(unix.Getpagesize())
	return v * page, r * page, nil
}

// atFDCWD is AT_FDCWD (-100) as a system call argument.
var atFDCWD = func() uintptr { fd := unix.AT_FDCWD; return uintptr(fd) }()
