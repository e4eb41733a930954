//go:build linux

#include "textflag.h"

// func G() unsafe.Pointer
TEXT ·G(SB), NOSPLIT|NOFRAME, $0-8
	MOVQ	(TLS), AX	// ABI0 code finds g in thread-local storage, not R14
	MOVQ	AX, ret+0(FP)
	RET

// func SP() uintptr
TEXT ·SP(SB), NOSPLIT|NOFRAME, $0-8
	LEAQ	8(SP), AX	// the caller's SP: above our return address
	MOVQ	AX, ret+0(FP)
	RET

// func FP() uintptr
TEXT ·FP(SB), NOSPLIT|NOFRAME, $0-8
	MOVQ	BP, AX		// frameless: BP is still the caller's frame pointer
	MOVQ	AX, ret+0(FP)
	RET
