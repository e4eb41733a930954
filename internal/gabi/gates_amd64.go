//go:build linux

package gabi

import "golang.org/x/arch/x86/x86asm"

// decodeAll decodes the function at entry and calls visit with each
// instruction and the address just past it.
func decodeAll(entry uintptr, visit func(inst x86asm.Inst, pc, end uintptr)) {
	instructions(entry, 16, func(pc uintptr, code []byte) int {
		inst, err := x86asm.Decode(code, 64)
		if err != nil {
			return 0
		}
		visit(inst, pc, pc+uintptr(inst.Len))
		return inst.Len
	})
}

// ripTarget is the address a RIP-relative memory operand refers to.
func ripTarget(arg x86asm.Arg, end uintptr) (uintptr, bool) {
	m, ok := arg.(x86asm.Mem)
	if !ok || m.Base != x86asm.RIP || m.Index != 0 {
		return 0, false
	}
	return uintptr(int64(end) + m.Disp), true
}

func callTargets(entry uintptr) []uintptr {
	var ts []uintptr
	decodeAll(entry, func(inst x86asm.Inst, pc, end uintptr) {
		if rel, ok := inst.Args[0].(x86asm.Rel); ok && inst.Op == x86asm.CALL {
			ts = append(ts, uintptr(int64(end)+int64(rel)))
		}
	})
	return ts
}

// mcallTarget returns the code pointer of the func value that the function
// at entry passes to runtime.mcall: ABIInternal passes it in AX, from a
// LEAQ of a static funcval.
func mcallTarget(entry uintptr) (uintptr, error) {
	var funcval, target uintptr
	decodeAll(entry, func(inst x86asm.Inst, pc, end uintptr) {
		switch {
		case inst.Op == x86asm.LEA && inst.Args[0] == x86asm.RAX:
			funcval, _ = ripTarget(inst.Args[1], end)
		case inst.Op == x86asm.CALL && target == 0:
			if rel, ok := inst.Args[0].(x86asm.Rel); ok && funcName(uintptr(int64(end)+int64(rel))) == "runtime.mcall" && funcval != 0 {
				target = *(*uintptr)(pointerAt(funcval))
			}
		}
	})
	if target == 0 {
		return 0, errNoMcall
	}
	return target, nil
}

// staticLoads returns the instructions of the function at entry that read
// size bytes of static data.
func staticLoads(entry uintptr, size int) []staticLoad {
	var ls []staticLoad
	decodeAll(entry, func(inst x86asm.Inst, pc, end uintptr) {
		if inst.MemBytes != size {
			return
		}
		for _, a := range inst.Args {
			if a == nil {
				break
			}
			if addr, ok := ripTarget(a, end); ok {
				ls = append(ls, staticLoad{pc, addr})
			}
		}
	})
	return ls
}
