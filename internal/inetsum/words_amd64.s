#include "textflag.h"

// func sumWords(b []byte) uint64
//
// The 64-bit little-endian words of b (len(b) a multiple of 8) added with
// end-around carry: one chain of ADCQ from memory, 128 bytes a round, then
// a word a round.
// LEAQ and DECQ leave the carry flag alone, so the chain runs on across
// rounds; the last carry is added back at the end, which cannot carry out
// again: a sum of all ones with a carry pending needs one before it.
TEXT ·sumWords(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ CX, DX
	SHRQ $3, DX
	ANDQ $15, DX          // the words after the last whole round
	SHRQ $7, CX           // rounds
	XORQ AX, AX           // the sum, and the carry flag cleared
	TESTQ CX, CX          // (also clears the carry flag)
	JZ   words

loop:
	ADCQ 0(SI), AX
	ADCQ 8(SI), AX
	ADCQ 16(SI), AX
	ADCQ 24(SI), AX
	ADCQ 32(SI), AX
	ADCQ 40(SI), AX
	ADCQ 48(SI), AX
	ADCQ 56(SI), AX
	ADCQ 64(SI), AX
	ADCQ 72(SI), AX
	ADCQ 80(SI), AX
	ADCQ 88(SI), AX
	ADCQ 96(SI), AX
	ADCQ 104(SI), AX
	ADCQ 112(SI), AX
	ADCQ 120(SI), AX
	LEAQ 128(SI), SI
	DECQ CX
	JNZ  loop

words:
	// DX words left; DECQ and JNZ leave the carry alone, TESTQ clears
	// it, so it is added first.
	ADCQ $0, AX
	TESTQ DX, DX
	JZ   done

word:
	ADCQ 0(SI), AX
	LEAQ 8(SI), SI
	DECQ DX
	JNZ  word
	ADCQ $0, AX

done:
	MOVQ AX, ret+24(FP)
	RET
