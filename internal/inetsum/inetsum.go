// Package inetsum adds bytes up as the Internet checksum does (RFC 1071):
// 16-bit big-endian words in one's-complement arithmetic.
//
// It is a package of its own, below decode, because two layers need the
// same sum: decode verifies TCP checksums, and replay, reading a mapped
// capture for a caller that keeps only each frame's headers, adds up the
// payload bytes it does not copy (frame.Tail) while they pass under it
// anyway, so the checksum can still be verified without the copy.
package inetsum

import (
	"encoding/binary"
	"math/bits"
)

// Add adds b as big-endian 16-bit words to s (RFC 1071), padding an odd
// last byte with zero. The result is congruent, modulo 0xFFFF, to the plain
// sum of the words (what Fold needs), not equal to it.
//
// It runs on every captured segment, over the whole payload, so it adds
// 64-bit words in host (little-endian) order with end-around carry, 128
// bytes per round, and swaps the folded 16-bit result into network order
// (RFC 1071 §2(B): the sum is independent of byte order up to that swap).
// That is about four times faster than converting each word with ntohl.
func Add(b []byte, s uint64) uint64 {
	// The whole words first (sumWords: on amd64 a chain of ADC instructions
	// straight from memory, elsewhere the same in Go), then the last seven
	// bytes at most here, carrying on from their sum; fewer than four
	// words (a header, a pseudo-header) all here, without the call.
	var acc, c uint64
	if n := len(b) &^ 7; n >= 32 {
		acc = sumWords(b[:n])
		b = b[n:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b), c)
		b = b[8:]
	}
	// The last seven bytes at most, still in the same little-endian words
	// (they start at an even offset): four, two, then an odd last byte,
	// which as the high byte of a big-endian word padded with zero is the
	// low byte of a little-endian one. No loop: an IPv4 header (20 bytes)
	// or a pseudo-header (12) ends with four.
	if len(b) >= 4 {
		acc, c = bits.Add64(acc, uint64(binary.LittleEndian.Uint32(b)), c)
		b = b[4:]
	}
	if len(b) >= 2 {
		acc, c = bits.Add64(acc, uint64(binary.LittleEndian.Uint16(b)), c)
		b = b[2:]
	}
	if len(b) == 1 {
		acc, c = bits.Add64(acc, uint64(b[0]), c)
	}
	acc, c = bits.Add64(acc, c, 0)
	acc += c // acc was all ones: the carry wraps into a zero acc
	// Fold 64 → 16 bits (still little-endian words), then into network order.
	x := acc>>32 + acc&0xFFFFFFFF
	x = x>>16 + x&0xFFFF
	x = x>>16 + x&0xFFFF
	x = x>>16 + x&0xFFFF
	return s + uint64(bits.ReverseBytes16(uint16(x)))
}

// Fold folds a wide one's-complement sum to 16 bits.
func Fold(s uint64) uint16 {
	for s > 0xFFFF {
		s = (s >> 16) + (s & 0xFFFF)
	}
	return uint16(s)
}

// sumWordsGo adds b (a whole number of 8-byte words) as 64-bit little-endian
// words with end-around carry: sumWords where there is no assembly for it,
// and the test's reference for the assembly. 128 bytes a round: the loop's
// own work (moving the slice on, the carry taken out of the flags and put
// back) is a dozen instructions, spent once per sixteen additions instead
// of per four.
func sumWordsGo(b []byte) uint64 {
	var acc, c uint64
	for len(b) >= 128 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[8:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[16:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[24:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[32:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[40:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[48:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[56:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[64:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[72:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[80:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[88:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[96:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[104:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[112:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[120:]), c)
		b = b[128:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b), c)
		b = b[8:]
	}
	acc, c = bits.Add64(acc, c, 0)
	return acc + c // acc was all ones: the carry wraps into a zero acc
}
