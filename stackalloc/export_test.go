package stackalloc

import "unsafe"

// unsafe_Pointer turns an address of mmap'd memory into a pointer.
func unsafe_Pointer(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }
