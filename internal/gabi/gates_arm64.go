//go:build linux

package gabi

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/arch/arm64/arm64asm"
)

// decodeAll decodes the function at entry and calls visit with each
// instruction and its address.
func decodeAll(entry uintptr, visit func(inst arm64asm.Inst, pc uintptr)) {
	instructions(entry, 4, func(pc uintptr, code []byte) int {
		inst, err := arm64asm.Decode(code)
		if err != nil {
			return 4 // data in the text, e.g. padding: skip the word
		}
		visit(inst, pc)
		return 4
	})
}

func callTargets(entry uintptr) []uintptr {
	var ts []uintptr
	decodeAll(entry, func(inst arm64asm.Inst, pc uintptr) {
		if rel, ok := inst.Args[0].(arm64asm.PCRel); ok && inst.Op == arm64asm.BL {
			ts = append(ts, uintptr(int64(pc)+int64(rel)))
		}
	})
	return ts
}

// pages tracks the addresses ADRP leaves in registers.
type pages map[arm64asm.Reg]uintptr

// track records an ADRP's result, after forgetting whatever the
// instruction overwrites (conservatively: its first operand).
func (p pages) track(inst arm64asm.Inst, pc uintptr) {
	r, ok := regOf(inst.Args[0])
	if !ok {
		return
	}
	delete(p, r)
	if inst.Op == arm64asm.ADRP {
		p[r] = uintptr(int64(pc&^0xfff) + int64(inst.Args[1].(arm64asm.PCRel)))
	}
}

// regOf returns the register an operand names, X or SP form.
func regOf(a arm64asm.Arg) (arm64asm.Reg, bool) {
	switch r := a.(type) {
	case arm64asm.Reg:
		return r, true
	case arm64asm.RegSP:
		return arm64asm.Reg(r), true
	}
	return 0, false
}

// immediate parses an operand x/arch prints as "#N" (it keeps the value
// unexported).
func immediate(a arm64asm.Arg) (int64, bool) {
	s := strings.TrimPrefix(a.String(), "#")
	v, err := strconv.ParseInt(s, 0, 64)
	return v, err == nil
}

// mcallTarget returns the code pointer of the func value that the function
// at entry passes to runtime.mcall: ABIInternal passes it in R0, made by
// ADRP and ADD from a static funcval.
func mcallTarget(entry uintptr) (uintptr, error) {
	p := pages{}
	var funcval, target uintptr
	decodeAll(entry, func(inst arm64asm.Inst, pc uintptr) {
		defer p.track(inst, pc)
		switch {
		case inst.Op == arm64asm.ADD:
			dst, _ := regOf(inst.Args[0])
			base, _ := regOf(inst.Args[1])
			off, ok := immediate(inst.Args[2])
			if page, ok2 := p[base]; dst == arm64asm.X0 && ok && ok2 {
				funcval = page + uintptr(off)
			}
		case inst.Op == arm64asm.BL && target == 0:
			if rel, ok := inst.Args[0].(arm64asm.PCRel); ok && funcName(uintptr(int64(pc)+int64(rel))) == "runtime.mcall" && funcval != 0 {
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
// size bytes (1 or 4) of static data: an LDRB or a 32-bit LDR from an
// offset on a page ADRP made.
func staticLoads(entry uintptr, size int) []staticLoad {
	p := pages{}
	var ls []staticLoad
	decodeAll(entry, func(inst arm64asm.Inst, pc uintptr) {
		if loadSize(inst) == size {
			m, ok := inst.Args[1].(arm64asm.MemImmediate)
			page, ok2 := p[arm64asm.Reg(m.Base)]
			if ok && ok2 && m.Mode == arm64asm.AddrOffset {
				// x/arch prints "[X27,#2640]" (or "[X27]") and keeps the
				// offset unexported.
				var off int64
				if _, s, found := strings.Cut(strings.Trim(m.String(), "[]"), ","); found {
					if _, err := fmt.Sscanf(s, "#%d", &off); err != nil {
						return
					}
				}
				ls = append(ls, staticLoad{pc, page + uintptr(off)})
			}
		}
		p.track(inst, pc)
	})
	return ls
}

// loadSize is how many bytes a load instruction reads, or 0 for any other.
func loadSize(inst arm64asm.Inst) int {
	switch inst.Op {
	case arm64asm.LDRB:
		return 1
	case arm64asm.LDR:
		if r, ok := inst.Args[0].(arm64asm.Reg); ok && r >= arm64asm.W0 && r <= arm64asm.WZR {
			return 4
		}
		return 8
	}
	return 0
}
