//go:build linux

#include "textflag.h"

// func G() unsafe.Pointer
TEXT ·G(SB), NOSPLIT|NOFRAME, $0-8
	MOVD	g, R0		// g lives in R28 in every arm64 Go ABI
	MOVD	R0, ret+0(FP)
	RET

// func SP() uintptr
TEXT ·SP(SB), NOSPLIT|NOFRAME, $0-8
	MOVD	RSP, R0		// a frameless leaf shares its caller's SP
	MOVD	R0, ret+0(FP)
	RET

// func FP() uintptr
TEXT ·FP(SB), NOSPLIT|NOFRAME, $0-8
	MOVD	R29, R0		// frameless: R29 is still the caller's frame pointer
	MOVD	R0, ret+0(FP)
	RET
