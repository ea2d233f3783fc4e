package decode

import (
	"encoding/binary"
	"math/bits"
)

// Checksum is the result of verifying a checksum.
type Checksum uint8

const (
	// ChecksumUnverified: not checked, because the bytes were not all
	// captured (snaplen), or the field holds a partial checksum that the
	// NIC was meant to finish (checksum offload, as on Linux loopback).
	// Wireshark leaves these unverified too.
	ChecksumUnverified Checksum = iota
	ChecksumOK
	ChecksumBad
	// ChecksumPartial: the field holds only the pseudo-header sum, as Linux
	// leaves it for offload (CHECKSUM_PARTIAL). Counted as unverified.
	ChecksumPartial
)

func (c Checksum) String() string {
	switch c {
	case ChecksumOK:
		return "ok"
	case ChecksumBad:
		return "bad"
	case ChecksumPartial:
		return "unverified: partial checksum, as on loopback"
	}
	return "unverified"
}

// sum16 adds b as big-endian 16-bit words to s (RFC 1071), padding an odd
// last byte with zero. The result is congruent, modulo 0xFFFF, to the plain
// sum of the words (what foldSum needs), not equal to it.
//
// It runs on every captured segment, over the whole payload, so it adds
// 64-bit words in host (little-endian) order with end-around carry, 32
// bytes per round, and swaps the folded 16-bit result into network order
// (RFC 1071 §2(B): the sum is independent of byte order up to that swap).
// That is about four times faster than converting each word with ntohl.
func sum16(b []byte, s uint64) uint64 {
	var acc, c uint64
	for len(b) >= 32 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[8:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[16:]), c)
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b[24:]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.LittleEndian.Uint64(b), c)
		b = b[8:]
	}
	acc, c = bits.Add64(acc, c, 0)
	acc += c // acc was all ones: the carry wraps into a zero acc
	// Fold 64 → 16 bits (still little-endian words), then into network order.
	x := acc>>32 + acc&0xFFFFFFFF
	x = x>>16 + x&0xFFFF
	x = x>>16 + x&0xFFFF
	x = x>>16 + x&0xFFFF
	s += uint64(bits.ReverseBytes16(uint16(x)))
	for len(b) >= 2 {
		s += uint64(ntohs(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

// foldSum folds a wide one's-complement sum to 16 bits.
func foldSum(s uint64) uint16 {
	for s > 0xFFFF {
		s = (s >> 16) + (s & 0xFFFF)
	}
	return uint16(s)
}

// verifyTCPChecksum verifies a TCP segment (header + payload, all captured) with the
// pseudo-header of RFC 9293 §3.1 (IPv4) or RFC 8200 §8.1 (IPv6).
func verifyTCPChecksum(src, dst []byte, seg []byte) Checksum {
	pseudo := sum16(src, 0)
	pseudo = sum16(dst, pseudo)
	pseudo += ProtoTCP + uint64(len(seg)) // zero, protocol, and TCP length (32 bits for v6)
	if foldSum(sum16(seg, pseudo)) == 0xFFFF {
		return ChecksumOK
	}
	// Offload: the sender put the pseudo-header sum (or its complement)
	// in the field and left the rest to hardware that loopback does not have.
	field := ntohs(seg[tcpChecksum:])
	ph := foldSum(pseudo)
	if field == ph || field == ^ph {
		return ChecksumPartial
	}
	return ChecksumBad
}
