package stackalloc

import (
	"bytes"
	"strconv"
	"unsafe"

	"github.com/corokit/corokit/internal/procfs"
	"golang.org/x/sys/unix"
)

// Every system call here is raw (unix.RawSyscall*): none of them blocks, and
// a raw call does not tell the scheduler, so it is allowed while the calling
// goroutine is pinned. A scheduler-visible call there is fatal or, worse,
// lets the GC scan one stack of a goroutine that has two (docs/design.md).

const (
	madvGuardInstall = unix.MADV_GUARD_INSTALL
	madvDontneed     = unix.MADV_DONTNEED
)

var errNoMem error = unix.ENOMEM

func mmap(size uintptr) (uintptr, error) {
	addr, _, errno := unix.RawSyscall6(unix.SYS_MMAP, 0, size,
		unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE|unix.MAP_STACK, ^uintptr(0), 0)
	if errno != 0 {
		return 0, errno
	}
	return addr, nil
}

func madvise(addr, size uintptr, advice int) error {
	if _, _, errno := unix.RawSyscall(unix.SYS_MADVISE, addr, size, uintptr(advice)); errno != 0 {
		return errno
	}
	return nil
}

func mprotectNone(addr, size uintptr) error {
	if _, _, errno := unix.RawSyscall(unix.SYS_MPROTECT, addr, size, unix.PROT_NONE); errno != 0 {
		return errno
	}
	return nil
}

// isUnsupported reports whether a madvise error means the kernel does not
// know the advice (before Linux 6.13 for MADV_GUARD_INSTALL).
func isUnsupported(err error) bool { return err == unix.EINVAL }

// resident counts the bytes of [addr, addr+size) that are in memory, or
// returns -1. qemu-user refuses mincore over PROT_NONE pages; callers
// then ask slot by slot.
func resident(addr, size uintptr) int64 {
	vec := make([]byte, size/pageSize)
	if _, _, errno := unix.RawSyscall(unix.SYS_MINCORE, addr, size, uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		return -1
	}
	var n int64
	for _, v := range vec {
		n += int64(v & 1)
	}
	return n * int64(pageSize)
}

// countMappings counts the kernel mappings (lines of /proc/self/maps) that
// overlap any of the chunks.
func countMappings(chunks []chunk) int {
	maps, err := procfs.ReadFile("/proc/self/maps")
	if err != nil {
		return -1
	}
	n := 0
	for line := range bytes.Lines(maps) {
		lo, hi, ok := parseMapsRange(line)
		if !ok {
			continue
		}
		for _, c := range chunks {
			if lo < c.base+c.size && c.base < hi {
				n++
				break
			}
		}
	}
	return n
}

// parseMapsRange parses "lo-hi ..." at the start of a /proc/self/maps line.
func parseMapsRange(line []byte) (lo, hi uintptr, ok bool) {
	field, _, _ := bytes.Cut(line, []byte(" "))
	l, h, found := bytes.Cut(field, []byte("-"))
	if !found {
		return 0, 0, false
	}
	a, err1 := strconv.ParseUint(string(l), 16, 64)
	b, err2 := strconv.ParseUint(string(h), 16, 64)
	return uintptr(a), uintptr(b), err1 == nil && err2 == nil
}

// processMappings counts all of the process's mappings, or returns -1.
// Error reports call it when mmap has failed: it reads through buf, so it
// needs no memory when the process has run out of mappings.
func processMappings(buf []byte) int { return procfs.Mappings(buf) }

// maxMapCount reads the vm.max_map_count sysctl through buf, or returns -1.
func maxMapCount(buf []byte) int {
	n, digits := 0, 0
	if err := procfs.Scan("/proc/sys/vm/max_map_count", buf, func(b []byte) {
		for _, c := range b {
			if '0' <= c && c <= '9' {
				n, digits = n*10+int(c-'0'), digits+1
			}
		}
	}); err != nil || digits == 0 {
		return -1
	}
	return n
}

// kernelCannotRead reports whether the kernel fails to read the byte at
// addr (EFAULT), as it must for a guard region. It writes that byte to a
// pipe, which faults in the kernel instead of in the caller.
func kernelCannotRead(addr uintptr) bool {
	var fds [2]int32
	if _, _, errno := unix.RawSyscall(unix.SYS_PIPE2, uintptr(unsafe.Pointer(&fds)), unix.O_CLOEXEC, 0); errno != 0 {
		return false
	}
	_, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fds[1]), addr, 1)
	unix.RawSyscall(unix.SYS_CLOSE, uintptr(fds[0]), 0, 0)
	unix.RawSyscall(unix.SYS_CLOSE, uintptr(fds[1]), 0, 0)
	return errno == unix.EFAULT
}
