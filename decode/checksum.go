package decode

import (
	"github.com/tcpscope/tcpscope/internal/inetsum"
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

// sum16 adds b as big-endian 16-bit words to s (RFC 1071): see
// inetsum.Add, which replay shares (frame.Tail).
func sum16(b []byte, s uint64) uint64 { return inetsum.Add(b, s) }

// foldSum folds a wide one's-complement sum to 16 bits.
func foldSum(s uint64) uint16 { return inetsum.Fold(s) }

// verifyTCPChecksum verifies a TCP segment (header + payload, all captured) with the
// pseudo-header of RFC 9293 §3.1 (IPv4) or RFC 8200 §8.1 (IPv6).
func verifyTCPChecksum(src, dst []byte, seg []byte) Checksum {
	return verifySum(pseudoSum(src, dst, len(seg)), seg, 0)
}

// pseudoSum is the sum of the pseudo-header: the addresses, zero, the
// protocol and the TCP length (32 bits for IPv6; the sum is the same).
//
// IPv4's four address words are added here directly (in network order,
// as RFC 1071 writes the sum): two calls of sum16 for eight bytes cost
// more than the additions, on every segment whose checksum is verified.
// The result is congruent, modulo 0xFFFF, to sum16's (all that folding
// needs; TestPseudoSumIPv4).
func pseudoSum(src, dst []byte, segLen int) uint64 {
	if len(src) == 4 && len(dst) == 4 {
		return uint64(ntohs(src)) + uint64(ntohs(src[2:])) + uint64(ntohs(dst)) + uint64(ntohs(dst[2:])) + ProtoTCP + uint64(segLen)
	}
	return sum16(dst, sum16(src, 0)) + ProtoTCP + uint64(segLen)
}

// verifySum verifies a segment of which seg holds the first bytes (at
// least the fixed header) and rest is the sum of the others (see
// Packet.verifyTail), pseudo the pseudo-header's sum.
func verifySum(pseudo uint64, seg []byte, rest uint64) Checksum {
	if foldSum(sum16(seg, pseudo)+rest) == 0xFFFF {
		return ChecksumOK
	}
	if partialField(pseudo, seg) {
		return ChecksumPartial
	}
	return ChecksumBad
}

// partialField reports whether the checksum field holds the pseudo-header
// sum (or its complement): the sender left the rest to offload hardware
// that loopback does not have (Linux's CHECKSUM_PARTIAL).
func partialField(pseudo uint64, seg []byte) bool {
	field := ntohs(seg[tcpChecksum:])
	ph := foldSum(pseudo)
	return field == ph || field == ^ph
}
