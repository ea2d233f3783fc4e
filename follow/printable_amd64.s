#include "textflag.h"

// func printableBlocks(dst, src []byte) int
//
// For each 16-byte block of src: a byte is shown as itself when it is a
// tab (0x09), a LF (0x0a), or from ' ' (0x20) to '~' (0x7e), else as '.'.
// PCMPGTB compares signed bytes, so "greater than 0x1f" already leaves out
// 0x80-0xff (negative); 0x7f (DEL) is taken out by itself. A block with a
// CR (0x0d) ends the run: the caller decides it with the byte after.
TEXT ·printableBlocks(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	ANDQ $~15, CX // whole blocks only
	XORQ AX, AX   // bytes done

	// Each constant byte sixteen times.
	MOVQ       $0x1f1f1f1f1f1f1f1f, DX
	MOVQ       DX, X8
	PUNPCKLQDQ X8, X8
	MOVQ       $0x7f7f7f7f7f7f7f7f, DX
	MOVQ       DX, X9
	PUNPCKLQDQ X9, X9
	MOVQ       $0x0909090909090909, DX
	MOVQ       DX, X10
	PUNPCKLQDQ X10, X10
	MOVQ       $0x0a0a0a0a0a0a0a0a, DX
	MOVQ       DX, X11
	PUNPCKLQDQ X11, X11
	MOVQ       $0x0d0d0d0d0d0d0d0d, DX
	MOVQ       DX, X12
	PUNPCKLQDQ X12, X12
	MOVQ       $0x2e2e2e2e2e2e2e2e, DX // '.'
	MOVQ       DX, X13
	PUNPCKLQDQ X13, X13

loop:
	CMPQ AX, CX
	JGE  done
	MOVOU (SI)(AX*1), X0

	// A CR in the block: stop before it.
	MOVO     X0, X1
	PCMPEQB  X12, X1
	PMOVMSKB X1, DX
	TESTL    DX, DX
	JNZ      done

	// X2: 0xff where the byte is shown as itself.
	MOVO    X0, X1
	PCMPGTB X8, X1 // 0x20-0x7f
	MOVO    X0, X2
	PCMPEQB X9, X2 // 0x7f
	PANDN   X1, X2 // 0x20-0x7e
	MOVO    X0, X3
	PCMPEQB X10, X3 // tab
	MOVO    X0, X4
	PCMPEQB X11, X4 // LF
	POR     X3, X2
	POR     X4, X2

	// The byte where shown, '.' elsewhere.
	PAND  X2, X0
	PANDN X13, X2
	POR   X2, X0
	MOVOU X0, (DI)(AX*1)
	ADDQ  $16, AX
	JMP   loop

done:
	MOVQ AX, ret+48(FP)
	RET
