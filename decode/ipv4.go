package decode

import (
	"net/netip"
	"strconv"
)

// IPv4 header, RFC 791 §3.1:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version|  IHL  |Type of Service|          Total Length         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Identification        |Flags|      Fragment Offset    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Time to Live |    Protocol   |         Header Checksum       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                       Source Address                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Destination Address                        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Options                    |    Padding    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	ipv4VersionIHL = 0  // 1 byte: version (high 4 bits), IHL in 32-bit words (low 4 bits)
	ipv4TOS        = 1  // 1 byte: DSCP (6 bits) + ECN (2 bits)
	ipv4TotalLen   = 2  // 2 bytes, network order: header + data, in bytes
	ipv4ID         = 4  // 2 bytes, network order
	ipv4FlagsFrag  = 6  // 2 bytes, network order: flags (3 bits) + fragment offset (13 bits, ×8 bytes)
	ipv4TTL        = 8  // 1 byte
	ipv4Protocol   = 9  // 1 byte: 6 = TCP
	ipv4Checksum   = 10 // 2 bytes, network order
	ipv4Src        = 12 // 4 bytes
	ipv4Dst        = 16 // 4 bytes
	ipv4MinLen     = 20
)

// IP protocol numbers (IANA).
const (
	ProtoHopByHop = 0
	ProtoTCP      = 6
	ProtoUDP      = 17
	ProtoRouting  = 43
	ProtoFragment = 44
	ProtoICMPv6   = 58
	ProtoNoNext   = 59
	ProtoDestOpts = 60
)

// IPv4 is a view of an IPv4 header and what follows it. ParseIPv4
// guarantees len(h) >= 20 and len(h) >= h.HeaderLen(), so no accessor can go
// out of range.
type IPv4 []byte

// ParseIPv4 validates b as an IPv4 header and returns a view of it (b itself,
// not a copy). Truncation inside the header is ErrTruncated; a version other
// than 4, an IHL under 5 or a Total Length shorter than the header is
// ErrMalformed.
func ParseIPv4(b []byte) (IPv4, error) {
	if len(b) < ipv4MinLen {
		return nil, errAt("ipv4", 0, ErrTruncated, "header needs 20 bytes, have "+strconv.Itoa(len(b)))
	}
	h := IPv4(b)
	if v := h.Version(); v != 4 {
		return nil, errAt("ipv4", 0, ErrMalformed, "version "+strconv.Itoa(int(v)))
	}
	if h.IHL() < 5 {
		// Wireshark's words (packet-ip.c), so a reader can search for them.
		return nil, errOwn("ipv4", 0, ErrMalformed, "Bogus IP header length ("+strconv.Itoa(h.HeaderLen())+", must be at least 20)")
	}
	if tl := int(h.TotalLen()); tl != 0 && tl < h.HeaderLen() {
		return nil, errOwn("ipv4", 0, ErrMalformed, "Bogus IP length ("+strconv.Itoa(tl)+", less than header length "+strconv.Itoa(h.HeaderLen())+")")
	}
	if len(b) < h.HeaderLen() {
		return nil, errOwn("ipv4", 0, ErrTruncated, "Packet size limited during capture: IPv4 header of "+strconv.Itoa(h.HeaderLen())+" bytes, "+strconv.Itoa(len(b))+" captured")
	}
	return h, nil
}

// Version returns the version nibble (offset 0, high 4 bits); always 4.
func (h IPv4) Version() uint8 { return h[ipv4VersionIHL] >> 4 }

// IHL returns the Internet Header Length field (offset 0, low 4 bits) in
// 32-bit words, as on the wire.
func (h IPv4) IHL() uint8 { return h[ipv4VersionIHL] & 0x0F }

// HeaderLen returns the header length in bytes: IHL × 4.
func (h IPv4) HeaderLen() int { return int(h.IHL()) * 4 }

// TOS returns the Type of Service byte (offset 1): DSCP << 2 | ECN.
func (h IPv4) TOS() uint8 { return h[ipv4TOS] }

// TotalLen returns Total Length (offset 2, 2 bytes, network→host): the
// datagram's size in bytes. 0 means a TSO/BIG TCP super-packet whose length
// must come from the frame.
func (h IPv4) TotalLen() uint16 { return ntohs(h[ipv4TotalLen:]) }

// ID returns Identification (offset 4, 2 bytes, network→host).
func (h IPv4) ID() uint16 { return ntohs(h[ipv4ID:]) }

// FlagsFrag returns the flags and fragment offset word (offset 6, 2 bytes,
// network→host): bit 15 reserved, bit 14 DF, bit 13 MF, bits 0–12 offset/8.
func (h IPv4) FlagsFrag() uint16 { return ntohs(h[ipv4FlagsFrag:]) }

// DF reports the Don't Fragment bit.
func (h IPv4) DF() bool { return h.FlagsFrag()&0x4000 != 0 }

// MF reports the More Fragments bit.
func (h IPv4) MF() bool { return h.FlagsFrag()&0x2000 != 0 }

// FragOffset returns the fragment offset in bytes (the 13-bit field × 8).
func (h IPv4) FragOffset() int { return int(h.FlagsFrag()&0x1FFF) * 8 }

// IsFragment reports whether this datagram is a piece of a larger one.
func (h IPv4) IsFragment() bool { return h.MF() || h.FragOffset() != 0 }

// TTL returns Time to Live (offset 8, 1 byte).
func (h IPv4) TTL() uint8 { return h[ipv4TTL] }

// Protocol returns the payload protocol (offset 9, 1 byte); 6 is TCP.
func (h IPv4) Protocol() uint8 { return h[ipv4Protocol] }

// Checksum returns Header Checksum (offset 10, 2 bytes, network→host).
func (h IPv4) Checksum() uint16 { return ntohs(h[ipv4Checksum:]) }

// Src returns Source Address (offset 12, 4 bytes, already in network order,
// which is how netip stores it).
func (h IPv4) Src() netip.Addr { return netip.AddrFrom4([4]byte(h[ipv4Src : ipv4Src+4])) }

// Dst returns Destination Address (offset 16, 4 bytes).
func (h IPv4) Dst() netip.Addr { return netip.AddrFrom4([4]byte(h[ipv4Dst : ipv4Dst+4])) }

// Options returns the option bytes between offset 20 and HeaderLen.
func (h IPv4) Options() []byte { return h[ipv4MinLen:h.HeaderLen()] }

// Payload returns the captured bytes after the header, up to TotalLen (so
// Ethernet padding is dropped). It may be shorter than PayloadLen when the
// snaplen cut the frame.
func (h IPv4) Payload() []byte {
	end := len(h)
	if tl := int(h.TotalLen()); tl != 0 && tl >= h.HeaderLen() && tl < end {
		end = tl
	}
	return h[h.HeaderLen():end]
}

// PayloadLen returns the payload length the header claims (TotalLen − IHL×4),
// or, for a TSO super-packet with TotalLen 0, the frame's length. wireLen is
// the length of the datagram on the wire (frame length minus link header)
// used when TotalLen is 0.
func (h IPv4) PayloadLen(wireLen int) int {
	tl := int(h.TotalLen())
	if tl == 0 || tl > wireLen {
		// TSO super-packet, or a header claiming more than was sent:
		// like Wireshark, trust the frame's length on the wire.
		tl = wireLen
	}
	n := tl - h.HeaderLen()
	if n < 0 {
		return 0
	}
	return n
}

// ChecksumOK reports whether the header checksum verifies: the one's-
// complement sum of all header words, checksum included, is 0xFFFF (RFC 1071).
//
// A header without options (twenty bytes, nearly every one) is added here
// word by word, without sum16's call and its rounds (TestIPv4ChecksumOK).
func (h IPv4) ChecksumOK() bool {
	if n := h.HeaderLen(); n != ipv4MinLen {
		return foldSum(sum16(h[:n], 0)) == 0xFFFF
	}
	_ = h[19]
	s := uint64(ntohs(h[0:])) + uint64(ntohs(h[2:])) + uint64(ntohs(h[4:])) + uint64(ntohs(h[6:])) + uint64(ntohs(h[8:])) +
		uint64(ntohs(h[10:])) + uint64(ntohs(h[12:])) + uint64(ntohs(h[14:])) + uint64(ntohs(h[16:])) + uint64(ntohs(h[18:]))
	return foldSum(s) == 0xFFFF
}
