#include "textflag.h"

// func lines(p *byte, n int)
//
// One PREFETCHT0 per 64-byte line, from the line holding p to the one
// holding p+n-1. A prefetch never faults: one of memory that is not mapped
// is simply dropped.
TEXT ·lines(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	LEAQ -1(SI)(CX*1), DX // the last byte
	ANDQ $~63, SI          // its line, and the first one
	ANDQ $~63, DX

loop:
	PREFETCHT0 (SI)
	ADDQ       $64, SI
	CMPQ       SI, DX
	JLE        loop
	RET
