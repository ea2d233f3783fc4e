package decode

import (
	"strconv"

	"github.com/tcpscope/tcpscope/frame"
)

// EtherType values used here (IEEE 802 numbers, network order on the wire).
const (
	EtherTypeIPv4   = 0x0800
	EtherTypeIPv6   = 0x86DD
	EtherTypeVLAN   = 0x8100 // 802.1Q customer tag
	EtherTypeQinQ   = 0x88A8 // 802.1ad service tag
	EtherTypeQinQv1 = 0x9100 // pre-standard Q-in-Q tag
	EtherTypePPPoE  = 0x8864 // PPPoE session stage (RFC 2516), carrying PPP
)

// PPPoE session header (RFC 2516 §4): ver/type (1), code (1), session id (2),
// length (2), then the 2-byte PPP protocol number (RFC 1661).
const (
	pppoeHeaderLen = 6
	pppProtoLen    = 2
	pppIPv4        = 0x0021
	pppIPv6        = 0x0057
)

// Link describes the link-layer header found in front of the IP header.
type Link struct {
	Type      frame.LinkType
	HeaderLen int    // bytes before the IP header, VLAN tags included
	EtherType uint16 // protocol of the payload (0 when the link type has none, e.g. raw IP)
	VLANs     int    // number of 802.1Q/802.1ad tags skipped
	VLANID    uint16 // ID of the outermost tag (0 when untagged)
	Family    uint32 // NULL/LOOP: the address-family value, after byte-order detection
}

// Ethernet II header (IEEE 802.3):
//
//	0                   6                   12      14
//	+-------------------+-------------------+-------+
//	|  destination MAC  |    source MAC     | type  |
//	+-------------------+-------------------+-------+
//
// An 802.1Q tag inserts 4 bytes (TPID 0x8100, then PCP/DEI/VID) before the type.
const (
	ethDst       = 0  // 6 bytes
	ethSrc       = 6  // 6 bytes
	ethType      = 12 // 2 bytes, network order
	ethHeaderLen = 14
	vlanTagLen   = 4
)

// Linux cooked capture (tcpdump -i any): https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html
const (
	sllProtocol   = 14 // 2 bytes, network order: an EtherType
	sllHeaderLen  = 16
	sll2Protocol  = 0 // 2 bytes, network order: an EtherType
	sll2HeaderLen = 20
)

// BSD loopback address families. DLT_NULL stores the family in the *writer's*
// host byte order; DLT_LOOP in network order. IPv6's value differs between
// systems: 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
const (
	afInet = 2
)

func isAFInet6(v uint32) bool { return v == 10 || v == 24 || v == 28 || v == 30 }

// decodeLink finds the network layer inside a frame of the given link type.
func decodeLink(lt frame.LinkType, b []byte, l *Link) error {
	*l = Link{Type: lt}
	switch lt {
	case frame.LinkEthernet:
		if len(b) < ethHeaderLen {
			return errAt("ethernet", 0, ErrTruncated, "need 14 bytes, have "+strconv.Itoa(len(b)))
		}
		off := ethType
		et := ntohs(b[off:])
		for et == EtherTypeVLAN || et == EtherTypeQinQ || et == EtherTypeQinQv1 {
			if len(b) < off+2+vlanTagLen {
				return errAt("vlan", off, ErrTruncated, "")
			}
			if l.VLANs == 0 {
				l.VLANID = ntohs(b[off+2:]) & 0x0FFF // low 12 bits of the TCI
			}
			l.VLANs++
			off += vlanTagLen
			et = ntohs(b[off:])
		}
		l.EtherType = et
		l.HeaderLen = off + 2
		if et == EtherTypePPPoE {
			if len(b) < l.HeaderLen+pppoeHeaderLen+pppProtoLen {
				return errAt("pppoe", l.HeaderLen, ErrTruncated, "")
			}
			switch ntohs(b[l.HeaderLen+pppoeHeaderLen:]) {
			case pppIPv4:
				l.EtherType = EtherTypeIPv4
			case pppIPv6:
				l.EtherType = EtherTypeIPv6
			default:
				l.EtherType = 0 // LCP, IPCP…: not IP
			}
			l.HeaderLen += pppoeHeaderLen + pppProtoLen
		}
	case frame.LinkSLL:
		if len(b) < sllHeaderLen {
			return errAt("sll", 0, ErrTruncated, "")
		}
		l.EtherType = ntohs(b[sllProtocol:])
		l.HeaderLen = sllHeaderLen
	case frame.LinkSLL2:
		if len(b) < sll2HeaderLen {
			return errAt("sll2", 0, ErrTruncated, "")
		}
		l.EtherType = ntohs(b[sll2Protocol:])
		l.HeaderLen = sll2HeaderLen
	case frame.LinkNull, frame.LinkLoop:
		if len(b) < 4 {
			return errAt("loopback", 0, ErrTruncated, "")
		}
		fam := ntohl(b) // network order, right for LOOP
		if lt == frame.LinkNull && fam > 0xFFFF {
			// DLT_NULL is in the writer's host order. A family is a small
			// number, so if the big-endian reading is huge the writer was
			// little-endian: swap the bytes back.
			fam = uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		}
		l.Family = fam
		l.HeaderLen = 4
		switch {
		case fam == afInet:
			l.EtherType = EtherTypeIPv4
		case isAFInet6(fam):
			l.EtherType = EtherTypeIPv6
		}
	case frame.LinkRaw, frame.LinkIPv4, frame.LinkIPv6:
		if len(b) < 1 {
			return errAt("raw", 0, ErrTruncated, "")
		}
		switch b[0] >> 4 {
		case 4:
			l.EtherType = EtherTypeIPv4
		case 6:
			l.EtherType = EtherTypeIPv6
		}
	default:
		return errAt("link", 0, ErrUnsupported, "link type "+lt.String())
	}
	return nil
}
