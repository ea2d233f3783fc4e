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
	EtherTypeMPLS   = 0x8847 // MPLS unicast (RFC 3032)
	EtherTypeMPLSMC = 0x8848 // MPLS multicast
	EtherTypeFP     = 0x8903 // Cisco FabricPath
	EtherTypeTEB    = 0x6558 // Transparent Ethernet Bridging: an Ethernet frame follows (GRE, Geneve)
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
	case frame.LinkPPP, frame.LinkPPPHDLC:
		return decodePPPLink(b, l)
	case frame.LinkCHDLC:
		return decodeCHDLC(b, l)
	case frame.LinkNFLOG:
		return decodeNFLOG(b, l)
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

// PPP framing (RFC 1661 §2, RFC 1662 §3.1): an optional address 0xFF and
// control 0x03 (HDLC-like framing), then the 2-byte protocol number.
// LINKTYPE_PPP_HDLC may also hold Cisco HDLC, whose address byte is 0x0F
// (unicast) or 0x8F (broadcast).
func decodePPPLink(b []byte, l *Link) error {
	if len(b) >= 1 && (b[0] == 0x0F || b[0] == 0x8F) {
		return decodeCHDLC(b, l)
	}
	off := 0
	if len(b) >= 2 && b[0] == 0xFF && b[1] == 0x03 {
		off = 2
	}
	if len(b) < off+pppProtoLen {
		return errAt("ppp", 0, ErrTruncated, "")
	}
	l.HeaderLen = off + pppProtoLen
	l.EtherType = pppEtherType(ntohs(b[off:]))
	return nil
}

// pppEtherType maps a PPP protocol number to the EtherType of the same
// payload (0 when it is not IP: LCP, IPCP, compressed data…).
func pppEtherType(proto uint16) uint16 {
	switch proto {
	case pppIPv4:
		return EtherTypeIPv4
	case pppIPv6:
		return EtherTypeIPv6
	case 0x0281: // MPLS unicast (RFC 3032 §5)
		return EtherTypeMPLS
	}
	return 0
}

// Cisco HDLC: address (1, 0x0F or 0x8F), control (1, 0x00), then an
// EtherType (2, network order).
const chdlcHeaderLen = 4

func decodeCHDLC(b []byte, l *Link) error {
	if len(b) < chdlcHeaderLen {
		return errAt("chdlc", 0, ErrTruncated, "")
	}
	l.HeaderLen = chdlcHeaderLen
	l.EtherType = ntohs(b[2:])
	return nil
}

// Linux NFLOG (https://www.tcpdump.org/linktypes/LINKTYPE_NFLOG.html):
//
//	0        1        2                 4
//	+--------+--------+-----------------+
//	| family |version |  resource ID    |   (resource ID in network order)
//	+--------+--------+-----------------+
//	| TLV length (2)  |  TLV type (2)   |   (both in the writer's host order)
//	| value, padded to 4 bytes …        |
//
// The packet itself is the value of TLV type 9 (NFULA_PAYLOAD), a bare IP
// datagram of the header's address family.
const (
	nflogHeaderLen  = 4
	nflogTLVLen     = 4
	nflogPayload    = 9
	nflogAFInet6    = 10
	nflogMaxTLVWalk = 64 // a bound against hostile records
)

func decodeNFLOG(b []byte, l *Link) error {
	if len(b) < nflogHeaderLen {
		return errAt("nflog", 0, ErrTruncated, "")
	}
	fam := b[0]
	// The TLV fields are in the capturing host's byte order, which the file
	// does not record: read them little-endian (every common Linux host)
	// unless that gives an impossible first length, as Wireshark guesses.
	little := true
	if len(b) >= nflogHeaderLen+nflogTLVLen {
		n := int(b[4]) | int(b[5])<<8
		if n < nflogTLVLen || nflogHeaderLen+n > len(b) {
			little = false
		}
	}
	u16 := func(x []byte) int {
		if little {
			return int(x[0]) | int(x[1])<<8
		}
		return int(ntohs(x))
	}
	off := nflogHeaderLen
	for i := 0; i < nflogMaxTLVWalk && off+nflogTLVLen <= len(b); i++ {
		n, typ := u16(b[off:]), u16(b[off+2:])
		if n < nflogTLVLen {
			return errAt("nflog", off, ErrMalformed, "TLV length "+strconv.Itoa(n))
		}
		if typ == nflogPayload {
			l.HeaderLen = off + nflogTLVLen
			switch {
			case fam == nflogAFInet6:
				l.EtherType = EtherTypeIPv6
			case fam == afInet:
				l.EtherType = EtherTypeIPv4
			}
			return nil
		}
		off += (n + 3) &^ 3
	}
	l.HeaderLen = len(b) // no packet in this record (a log line only)
	return nil
}
