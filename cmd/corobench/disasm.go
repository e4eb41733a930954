package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"strings"
	"unsafe"

	"github.com/corokit/corokit/continuation"
	"github.com/corokit/corokit/ctx"
	"golang.org/x/arch/arm64/arm64asm"
	"golang.org/x/arch/x86/x86asm"
)

// disasm prints the machine code of ctx's assembly (the switch, Call and
// Redirect, and the entry trampoline) and of continuation's fast paths as
// this very binary holds it, one instruction a line.
func disasm(w io.Writer) error {
	for _, fn := range append(ctx.Routines(), continuation.Routines()...) {
		fn.Name = strings.TrimPrefix(fn.Name, "github.com/corokit/corokit/")
		size := funcSize(fn.PC)
		if size == 0 {
			return fmt.Errorf("no function at %#x for %s", fn.PC, fn.Name)
		}
		// The text segment is mapped readable: read the code where it runs.
		pc := fn.PC
		code := unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&pc))), size)
		n, err := printCode(w, fn.Name, fn.PC, code)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%d instructions, %d bytes\n\n", n, size)
	}
	return nil
}

// funcSize finds where the function at entry ends from the runtime's own
// function table, which every binary has (go run and go test strip the ELF
// symbol table): the first address that belongs to no function or to
// another one, less the padding after it.
func funcSize(entry uintptr) int {
	f := runtime.FuncForPC(entry)
	if f == nil || f.Entry() != entry {
		return 0
	}
	end := entry + 1
	for ; end < entry+4096; end++ {
		if g := runtime.FuncForPC(end); g == nil || g.Entry() != entry {
			break
		}
	}
	pc := entry
	code := unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&pc))), end-entry)
	n := len(code)
	pad := map[string]byte{"amd64": 0xcc}[runtime.GOARCH] // INT3 fill between functions
	for runtime.GOARCH == "amd64" && n > 0 && code[n-1] == pad {
		n--
	}
	for runtime.GOARCH == "arm64" && n >= 4 && bytes.Equal(code[n-4:n], []byte{0, 0, 0, 0}) {
		n -= 4 // zero words between functions
	}
	return n
}

func printCode(w io.Writer, name string, pc uintptr, code []byte) (int, error) {
	fmt.Fprintf(w, "%s (%s) at %#x:\n", name, runtime.GOARCH, pc)
	symname := func(addr uint64) (string, uint64) {
		if f := runtime.FuncForPC(uintptr(addr)); f != nil {
			return f.Name(), uint64(f.Entry())
		}
		return "", 0
	}
	count := 0
	for off := 0; off < len(code); {
		addr := uint64(pc) + uint64(off)
		var text string
		var size int
		switch runtime.GOARCH {
		case "amd64":
			inst, err := x86asm.Decode(code[off:], 64)
			if err != nil {
				text, size = "?", 1
			} else {
				text, size = x86asm.GoSyntax(inst, addr, symname), inst.Len
			}
		case "arm64":
			inst, err := arm64asm.Decode(code[off:])
			if err != nil {
				text, size = "?", 4
			} else {
				text, size = arm64asm.GoSyntax(inst, addr, symname, nil), 4
			}
		default:
			return 0, fmt.Errorf("disasm: no decoder for %s", runtime.GOARCH)
		}
		fmt.Fprintf(w, "  %#x  %-20s  %s\n", addr, hex.EncodeToString(code[off:off+size]), text)
		off += size
		count++
	}
	return count, nil
}
