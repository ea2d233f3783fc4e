package decode

import (
	"net/netip"
	"strconv"
)

// IPv6 header, RFC 8200 §3:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Version| Traffic Class |           Flow Label                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Payload Length        |  Next Header  |   Hop Limit   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                 Source Address (16 bytes)                     |
//	|                 Destination Address (16 bytes)                |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	ipv6VerClassFlow = 0 // 4 bytes, network order: version 4 bits, class 8, flow label 20
	ipv6PayloadLen   = 4 // 2 bytes, network order: bytes after this 40-byte header
	ipv6NextHeader   = 6 // 1 byte
	ipv6HopLimit     = 7 // 1 byte
	ipv6Src          = 8 // 16 bytes
	ipv6Dst          = 24
	ipv6HeaderLen    = 40
)

// IPv6 is a view of a fixed IPv6 header and what follows it. ParseIPv6
// guarantees len(h) >= 40.
type IPv6 []byte

// ParseIPv6 validates b as an IPv6 header and returns a view of it.
func ParseIPv6(b []byte) (IPv6, error) {
	if len(b) < ipv6HeaderLen {
		return nil, errAt("ipv6", 0, ErrTruncated, "header needs 40 bytes, have "+strconv.Itoa(len(b)))
	}
	if v := b[0] >> 4; v != 6 {
		return nil, errAt("ipv6", 0, ErrMalformed, "version "+strconv.Itoa(int(v)))
	}
	return IPv6(b), nil
}

// Version returns the version (offset 0, high 4 bits); always 6.
func (h IPv6) Version() uint8 { return h[0] >> 4 }

// TrafficClass returns the Traffic Class (offset 0, bits 4–11 of the first word).
func (h IPv6) TrafficClass() uint8 { return uint8(ntohl(h[ipv6VerClassFlow:]) >> 20) }

// FlowLabel returns the Flow Label (offset 0, low 20 bits of the first word, network→host).
func (h IPv6) FlowLabel() uint32 { return ntohl(h[ipv6VerClassFlow:]) & 0xFFFFF }

// PayloadLen returns Payload Length (offset 4, 2 bytes, network→host); 0
// with a Jumbo Payload option (RFC 2675) or for a BIG TCP super-packet.
func (h IPv6) PayloadLen() uint16 { return ntohs(h[ipv6PayloadLen:]) }

// NextHeader returns Next Header (offset 6, 1 byte).
func (h IPv6) NextHeader() uint8 { return h[ipv6NextHeader] }

// HopLimit returns Hop Limit (offset 7, 1 byte), IPv6's TTL.
func (h IPv6) HopLimit() uint8 { return h[ipv6HopLimit] }

// Src returns Source Address (offset 8, 16 bytes).
func (h IPv6) Src() netip.Addr { return netip.AddrFrom16([16]byte(h[ipv6Src : ipv6Src+16])) }

// Dst returns Destination Address (offset 24, 16 bytes).
func (h IPv6) Dst() netip.Addr { return netip.AddrFrom16([16]byte(h[ipv6Dst : ipv6Dst+16])) }

// IPv6Ext is the result of walking the extension-header chain.
type IPv6Ext struct {
	Proto      uint8 // upper-layer protocol after the chain (6 = TCP)
	Offset     int   // offset of the upper-layer header from the start of the IPv6 header
	Jumbo      uint32
	HasJumbo   bool // a Jumbo Payload option (RFC 2675) was found in hop-by-hop
	Frag       bool // a Fragment header is present
	FragOffset int  // fragment offset in bytes
	FragMore   bool // M flag
	FragID     uint32
	FragHdrOff int // offset of the Fragment header
}

// Atomic reports a Fragment header with offset 0 and M clear (RFC 6946): the
// datagram is whole and needs no reassembly.
func (e IPv6Ext) Atomic() bool { return e.Frag && e.FragOffset == 0 && !e.FragMore }

// WalkExt follows hop-by-hop, routing, destination-options and fragment
// headers (RFC 8200 §4) to the upper-layer protocol. Only the first fragment
// (offset 0) has an upper-layer header to reach.
func (h IPv6) WalkExt(e *IPv6Ext) error {
	*e = IPv6Ext{}
	nh := h.NextHeader()
	off := ipv6HeaderLen
	for i := 0; i < 16; i++ { // a bound against hostile chains
		switch nh {
		case ProtoHopByHop, ProtoRouting, ProtoDestOpts:
			if len(h) < off+2 {
				return errAt("ipv6-ext", off, ErrTruncated, "")
			}
			n := (int(h[off+1]) + 1) * 8 // Hdr Ext Len: 8-byte units, not counting the first 8
			if len(h) < off+n {
				return errAt("ipv6-ext", off, ErrTruncated, "")
			}
			if nh == ProtoHopByHop {
				h.findJumbo(h[off+2:off+n], e)
			}
			nh = h[off]
			off += n
		case ProtoFragment:
			if len(h) < off+8 {
				return errAt("ipv6-frag", off, ErrTruncated, "")
			}
			e.Frag = true
			e.FragHdrOff = off
			fo := ntohs(h[off+2:]) // offset (13 bits, ×8) | res (2) | M (1)
			e.FragOffset = int(fo>>3) * 8
			e.FragMore = fo&1 != 0
			e.FragID = ntohl(h[off+4:])
			nh = h[off]
			off += 8
			if e.FragOffset != 0 {
				e.Proto, e.Offset = nh, off
				return nil // later fragments carry no upper-layer header
			}
		default:
			e.Proto, e.Offset = nh, off
			return nil
		}
	}
	return errAt("ipv6-ext", off, ErrMalformed, "extension header chain too long")
}

// findJumbo looks for option type 0xC2 (Jumbo Payload, RFC 2675) in hop-by-hop options.
func (h IPv6) findJumbo(opts []byte, e *IPv6Ext) {
	for i := 0; i < len(opts); {
		t := opts[i]
		if t == 0 { // Pad1
			i++
			continue
		}
		if i+1 >= len(opts) {
			return
		}
		l := int(opts[i+1])
		if t == 0xC2 && l == 4 && i+6 <= len(opts) {
			e.Jumbo = ntohl(opts[i+2:])
			e.HasJumbo = true
		}
		i += 2 + l
	}
}
