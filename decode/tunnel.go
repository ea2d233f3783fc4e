package decode

import (
	"net/netip"

	"github.com/tcpscope/tcpscope/frame"
)

// Tunnels: a TCP segment may travel inside another packet — IP in IP, GRE,
// a UDP tunnel (VXLAN, Geneve, GTP-U, CAPWAP), MPLS, FabricPath. Wireshark
// decodes through all of them to the innermost TCP, whose addresses and
// ports make the connection; decode does the same and keeps what it passed
// through in Packet.Outer, outermost first.

// MaxTunnels bounds how many encapsulations decode follows into one frame.
// Real traffic rarely nests more than three; a crafted frame could nest
// thousands, and each level is a bounds-checked walk, so deeper frames are
// left undecoded and reported (SkipTooDeep).
const MaxTunnels = 8

// Encap names how the next layer is carried.
type Encap uint8

// Encapsulations decode follows.
const (
	EncapNone       Encap = iota
	Encap4in4             // IPv4 in IPv4 (IP protocol 4, RFC 2003)
	Encap6in4             // IPv6 in IPv4 (IP protocol 41, RFC 4213)
	Encap4in6             // IPv4 in IPv6 (next header 4, RFC 2473)
	Encap6in6             // IPv6 in IPv6 (next header 41, RFC 2473)
	EncapGRE              // GRE (RFC 2784, RFC 2890; PPTP's enhanced GRE, RFC 2637)
	EncapERSPAN2          // ERSPAN type II over GRE (protocol 0x88BE)
	EncapERSPAN3          // ERSPAN type III over GRE (protocol 0x22EB)
	EncapGTPU             // GTP-U (3GPP TS 29.281), UDP port 2152
	EncapVXLAN            // VXLAN (RFC 7348), UDP port 4789
	EncapGeneve           // Geneve (RFC 8926), UDP port 6081
	EncapCAPWAP           // CAPWAP data channel (RFC 5415), UDP port 5247
	EncapMPLS             // MPLS label stack (RFC 3032)
	EncapFabricPath       // Cisco FabricPath (EtherType 0x8903)
)

var encapNames = [...]string{"", "4in4", "6in4", "4in6", "6in6", "gre", "erspan-ii", "erspan-iii", "gtp-u", "vxlan", "geneve", "capwap", "mpls", "fabricpath"}

// String is the encapsulation's short name, as the JSON "outer" key uses it.
func (e Encap) String() string {
	if int(e) < len(encapNames) {
		return encapNames[e]
	}
	return "unknown"
}

// Outer is one encapsulation a frame's TCP segment travelled through.
//
// It is kept small (a Packet holds MaxTunnels of them and is reset for
// every frame): the carrying IP header is a view (IP) from which Src and
// Dst are read when asked for.
type Outer struct {
	// IP is the IP header that carried the encapsulation (a view of the
	// frame, starting at IPOffset); nil for one that sits directly on the
	// link (MPLS, FabricPath on Ethernet).
	IP       []byte
	IPOffset int32
	// Offset and Len locate the encapsulation's own header in the frame
	// (for a UDP tunnel: the UDP header and the tunnel header; for IP in
	// IP it is empty, at the inner IP header).
	Offset, Len int32
	// ID is the tunnel's identifier when it has one: the VXLAN or Geneve
	// VNI, the GTP-U TEID, the GRE key, the ERSPAN session, the innermost
	// MPLS label.
	ID    uint32
	Encap Encap
	HasID bool
	// Ether: an Ethernet header follows the encapsulation header (VXLAN,
	// GRE 0x6558, ERSPAN, FabricPath, …), at Offset+Len.
	Ether bool
}

// IPVersion is 4 or 6 for the carrying IP header, 0 when there is none.
func (o *Outer) IPVersion() int {
	if len(o.IP) == 0 {
		return 0
	}
	return int(o.IP[0] >> 4)
}

// Src is the carrying IP header's source address (invalid without one).
func (o *Outer) Src() netip.Addr {
	switch o.IPVersion() {
	case 4:
		return IPv4(o.IP).Src()
	case 6:
		return IPv6(o.IP).Src()
	}
	return netip.Addr{}
}

// Dst is the carrying IP header's destination address.
func (o *Outer) Dst() netip.Addr {
	switch o.IPVersion() {
	case 4:
		return IPv4(o.IP).Dst()
	case 6:
		return IPv6(o.IP).Dst()
	}
	return netip.Addr{}
}

// Skip says why a frame that may hold TCP was not decoded to it.
type Skip uint8

// Reasons for Packet.Skipped.
const (
	SkipNone           Skip = iota
	SkipTooDeep             // more than MaxTunnels encapsulations
	SkipGRE                 // a GRE version, protocol or routing field not followed
	SkipTunnelPayload       // a tunnel payload that is neither Ethernet nor IP (802.11 in CAPWAP, an MPLS pseudowire, a GTP-U signalling message)
	SkipTunnelFragment      // a fragment of a tunnel packet (CAPWAP, outer IP fragments are reassembled by defrag)
	SkipEncrypted           // IPsec ESP: the payload is encrypted
	NumSkips
)

var skipNames = [...]string{"", "tunnels nested deeper than 8 levels", "GRE packets of a version or protocol not decoded", "tunnel payloads that are neither Ethernet nor IP", "fragments of tunnel packets", "IPsec ESP packets (encrypted)"}

func (s Skip) String() string {
	if int(s) < len(skipNames) {
		return skipNames[s]
	}
	return "unknown"
}

// IP protocol numbers of the tunnels.
const (
	ProtoIPIP = 4
	ProtoIPv6 = 41
	ProtoGRE  = 47
	ProtoESP  = 50
)

// UDP ports of the UDP tunnels (IANA).
const (
	portGTPU   = 2152
	portVXLAN  = 4789
	portGeneve = 6081
	portCAPWAP = 5247
)

// next is where a tunnel leads: the offset of the inner layer and its
// EtherType (EtherTypeTEB for an Ethernet header).
type next struct {
	off int
	et  uint16
}

// pushOuter records an encapsulation. It reports false (and marks the frame
// skipped) past MaxTunnels.
func (p *Packet) pushOuter(o Outer) bool {
	if p.NOuter >= MaxTunnels {
		p.Skipped = SkipTooDeep
		return false
	}
	if p.Outer == nil {
		p.Outer = new([MaxTunnels]Outer) // once per Packet: it is reused
	}
	p.Outer[p.NOuter] = o
	p.NOuter++
	return true
}

// carried returns an Outer for an encapsulation carried by the IP header
// just decoded into p.
func (p *Packet) carried(e Encap, off, n int) Outer {
	ip := []byte(p.IPv4)
	if p.IPVersion == 6 {
		ip = p.IPv6
	}
	return Outer{Encap: e, IP: ip, IPOffset: int32(p.IPOffset), Offset: int32(off), Len: int32(n)}
}

// ipTunnel looks at the payload of the IP header decoded into p (which
// starts at off in b and ends at end) for a tunnel. ok is false when the
// payload is not a tunnel (or one not followed: p.Skipped then says why).
func (p *Packet) ipTunnel(b []byte, off, end int) (n next, ok bool) {
	switch p.Proto {
	case ProtoIPIP, ProtoIPv6:
		e := Encap4in4
		et := uint16(EtherTypeIPv4)
		if p.Proto == ProtoIPv6 {
			e, et = Encap6in4, EtherTypeIPv6
		}
		if p.IPVersion == 6 {
			e += 2 // 4in6, 6in6
		}
		if !p.pushOuter(p.carried(e, off, 0)) {
			return n, false
		}
		return next{off, et}, true
	case ProtoGRE:
		return p.gre(b, off, end)
	case ProtoUDP:
		return p.udpTunnel(b, off, end)
	case ProtoESP:
		p.Skipped = SkipEncrypted
	}
	return n, false
}

// GRE header (RFC 2784 §2.1, with RFC 2890's key and sequence number, and
// RFC 2637's enhanced GRE, version 1, for PPTP):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|C|R|K|S|s|Recur|A| Flags | Ver |         Protocol Type         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|      Checksum (optional)      |       Reserved1 (Optional)    |  if C (or R)
//	|                         Key (optional)                        |  if K
//	|                 Sequence Number (Optional)                    |  if S
//	|               Acknowledgment Number (version 1)               |  if A
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	greFlags    = 0 // 2 bytes, network order: C R K S s Recur A Flags Ver
	greProto    = 2 // 2 bytes, network order: an EtherType
	greMinLen   = 4
	greC        = 0x8000
	greR        = 0x4000
	greK        = 0x2000
	greS        = 0x1000
	greA        = 0x0080 // version 1 only
	greVersion  = 0x0007
	greERSPAN2  = 0x88BE
	greERSPAN3  = 0x22EB
	grePPP      = 0x880B
	erspan2Len  = 8
	erspan3Len  = 12
	erspan3Plat = 8 // platform-specific subheader, when the O bit is set
)

func (p *Packet) gre(b []byte, off, end int) (n next, ok bool) {
	if end-off < greMinLen {
		return n, false
	}
	flags, proto := ntohs(b[off+greFlags:]), ntohs(b[off+greProto:])
	ver := flags & greVersion
	hl := greMinLen
	if flags&(greC|greR) != 0 {
		hl += 4
	}
	keyAt := 0
	if flags&greK != 0 {
		keyAt = off + hl
		hl += 4
	}
	if flags&greS != 0 {
		hl += 4
	}
	if ver == 1 && flags&greA != 0 {
		hl += 4
	}
	if flags&greR != 0 || ver > 1 || off+hl > end {
		p.Skipped = SkipGRE // source routing (RFC 1701) is not followed
		return n, false
	}
	o := p.carried(EncapGRE, off, hl)
	if keyAt != 0 {
		o.ID, o.HasID = ntohl(b[keyAt:]), true
	}
	in := off + hl
	switch {
	case ver == 1 && proto == grePPP:
		// PPTP: a PPP frame, maybe with address/control bytes.
		if end-in >= 2 && b[in] == 0xFF && b[in+1] == 0x03 {
			in += 2
		}
		if end-in < pppProtoLen {
			return n, false
		}
		et := pppEtherType(ntohs(b[in:]))
		if et == 0 {
			return n, false // LCP, CCP, compressed PPP: not IP
		}
		o.Len = int32(in + pppProtoLen - off)
		if !p.pushOuter(o) {
			return n, false
		}
		return next{in + pppProtoLen, et}, true
	case ver == 1:
		p.Skipped = SkipGRE
		return n, false
	case proto == greERSPAN2 && flags&greS == 0:
		// ERSPAN type I: no header of its own, the mirrored frame follows.
		o.Encap, o.Ether = EncapERSPAN2, true
	case proto == greERSPAN2:
		// ERSPAN type II: Ver(4) VLAN(12) | COS(3) En(2) T(1) Session(10) | Reserved(12) Index(20)
		if end-in < erspan2Len {
			return n, false
		}
		o.Encap, o.Ether = EncapERSPAN2, true
		o.ID, o.HasID = uint32(ntohs(b[in+2:])&0x03FF), true
		o.Len += erspan2Len
	case proto == greERSPAN3:
		// ERSPAN type III: Ver(4) VLAN(12) | COS(3) BSO(2) T(1) Session(10) |
		// Timestamp(32) | SGT(16) | P(1) FT(5) HW ID(6) D(1) Gra(2) O(1)
		if end-in < erspan3Len {
			return n, false
		}
		o.Encap, o.Ether = EncapERSPAN3, true
		o.ID, o.HasID = uint32(ntohs(b[in+2:])&0x03FF), true
		last := ntohs(b[in+10:])
		if ft := (last >> 10) & 0x1F; ft != 0 {
			p.Skipped = SkipTunnelPayload // frame type other than Ethernet
			return n, false
		}
		o.Len += erspan3Len
		if last&1 != 0 {
			o.Len += erspan3Plat
		}
		if off+int(o.Len) > end {
			return n, false
		}
	case proto == EtherTypeIPv4 || proto == EtherTypeIPv6 || proto == EtherTypeMPLS || proto == EtherTypeMPLSMC:
		if !p.pushOuter(o) {
			return n, false
		}
		return next{in, proto}, true
	case proto == EtherTypeTEB:
		o.Ether = true
	default:
		p.Skipped = SkipGRE
		return n, false
	}
	if !p.pushOuter(o) {
		return n, false
	}
	return next{off + int(o.Len), EtherTypeTEB}, true
}

// UDP header (RFC 768): source port, destination port, length, checksum,
// 2 bytes each, network order. The tunnel is chosen by the destination
// port, then the source port, as Wireshark tries the lower port first and
// tunnels use their well-known port as the destination.
const udpHeaderLen = 8

func (p *Packet) udpTunnel(b []byte, off, end int) (n next, ok bool) {
	if end-off < udpHeaderLen {
		return n, false
	}
	sport, dport := ntohs(b[off:]), ntohs(b[off+2:])
	if ul := int(ntohs(b[off+4:])); ul >= udpHeaderLen && off+ul < end {
		end = off + ul // Ethernet padding or a bogus length: trust the UDP length
	}
	in := off + udpHeaderLen
	port := dport
	if !isTunnelPort(port) {
		port = sport
	}
	o := p.carried(EncapNone, off, udpHeaderLen)
	switch port {
	case portVXLAN:
		// VXLAN: flags(8, I = 0x08) reserved(24) | VNI(24) reserved(8)
		if end-in < 8 || b[in]&0x08 == 0 {
			return n, false
		}
		o.Encap, o.Ether, o.Len = EncapVXLAN, true, udpHeaderLen+8
		o.ID, o.HasID = ntohl(b[in+4:])>>8, true
		if !p.pushOuter(o) {
			return n, false
		}
		return next{in + 8, EtherTypeTEB}, true
	case portGeneve:
		// Geneve: Ver(2) OptLen(6) | O C Rsvd(6) | Protocol Type(16) |
		// VNI(24) Reserved(8) | options, OptLen × 4 bytes
		if end-in < 8 || b[in]>>6 != 0 {
			return n, false
		}
		hl := 8 + int(b[in]&0x3F)*4
		if end-in < hl {
			return n, false
		}
		o.Encap, o.Len = EncapGeneve, int32(udpHeaderLen+hl)
		o.ID, o.HasID = ntohl(b[in+4:])>>8, true
		et := ntohs(b[in+2:])
		o.Ether = et == EtherTypeTEB
		if et != EtherTypeTEB && et != EtherTypeIPv4 && et != EtherTypeIPv6 {
			p.Skipped = SkipTunnelPayload
			return n, false
		}
		if !p.pushOuter(o) {
			return n, false
		}
		return next{in + hl, et}, true
	case portGTPU:
		return p.gtpu(b, in, end, o)
	case portCAPWAP:
		// CAPWAP data: Preamble (version 4, type 4 — type 1 is DTLS) |
		// HLEN(5, in 4-byte words) RID(5) WBID(5) T F L W M K Flags(3) |
		// Fragment ID(16) Frag Offset(13) Rsvd(3) | optional fields.
		// T = 0: the payload is an IEEE 802.3 frame.
		if end-in < 8 || b[in] != 0 {
			return n, false
		}
		w := ntohl(b[in:])
		hl := int(w>>19&0x1F) * 4
		if hl < 8 || end-in < hl {
			return n, false
		}
		if w&(1<<7) != 0 { // F: a fragment
			p.Skipped = SkipTunnelFragment
			return n, false
		}
		if w&(1<<8) != 0 { // T: native frames of the wireless binding (802.11)
			p.Skipped = SkipTunnelPayload
			return n, false
		}
		o.Encap, o.Ether, o.Len = EncapCAPWAP, true, int32(udpHeaderLen+hl)
		if !p.pushOuter(o) {
			return n, false
		}
		return next{in + hl, EtherTypeTEB}, true
	}
	return n, false
}

func isTunnelPort(port uint16) bool {
	return port == portVXLAN || port == portGeneve || port == portGTPU || port == portCAPWAP
}

// GTP-U header (3GPP TS 29.281 §5.1):
//
//	| Version(3)=1 PT(1)=1 (*) E S PN | Message Type (0xFF = G-PDU) | Length (2) |
//	|                        TEID (4)                                           |
//	| Sequence Number (2) | N-PDU Number (1) | Next Extension Header Type (1)    |  if E, S or PN
//	| extension headers: length (1, in 4-byte units), content, next type (1)…   |
func (p *Packet) gtpu(b []byte, in, end int, o Outer) (n next, ok bool) {
	if end-in < 8 || b[in]>>5 != 1 || b[in]&0x10 == 0 {
		return n, false
	}
	if b[in+1] != 0xFF {
		p.Skipped = SkipTunnelPayload // echo, error indication, end marker
		return n, false
	}
	hl := 8
	if b[in]&0x07 != 0 {
		if end-in < 12 {
			return n, false
		}
		hl = 12
		nextType := b[in+11]
		for i := 0; nextType != 0 && i < 16; i++ {
			if end-in < hl+1 {
				return n, false
			}
			el := int(b[in+hl]) * 4
			if el == 0 || end-in < hl+el {
				return n, false
			}
			nextType = b[in+hl+el-1]
			hl += el
		}
		if nextType != 0 {
			return n, false
		}
	}
	if end-in <= hl {
		return n, false
	}
	et := uint16(EtherTypeIPv4)
	switch b[in+hl] >> 4 {
	case 4:
	case 6:
		et = EtherTypeIPv6
	default:
		p.Skipped = SkipTunnelPayload
		return n, false
	}
	o.Encap, o.Len = EncapGTPU, int32(udpHeaderLen+hl)
	o.ID, o.HasID = ntohl(b[in+4:]), true
	if !p.pushOuter(o) {
		return n, false
	}
	return next{in + hl, et}, true
}

// MPLS label stack entry (RFC 3032 §2.1), 4 bytes, network order:
// Label(20) TC(3) S(1, bottom of stack) TTL(8). What follows the bottom
// label is not named; like Wireshark, decode takes IPv4 or IPv6 from the
// version nibble.
const (
	mplsEntryLen = 4
	mplsMaxDepth = 16
)

func (p *Packet) mpls(b []byte, off, end int, onLink bool) (n next, ok bool) {
	o := Outer{Encap: EncapMPLS, Offset: int32(off)}
	if !onLink {
		o = p.carried(EncapMPLS, off, 0)
	}
	at := off
	for i := 0; ; i++ {
		if end-at < mplsEntryLen || i == mplsMaxDepth {
			return n, false
		}
		e := ntohl(b[at:])
		at += mplsEntryLen
		if e&0x100 != 0 { // bottom of stack
			o.ID, o.HasID = e>>12, true
			break
		}
	}
	o.Len = int32(at - off)
	if end-at < 1 {
		return n, false
	}
	var et uint16
	switch b[at] >> 4 {
	case 4:
		et = EtherTypeIPv4
	case 6:
		et = EtherTypeIPv6
	default:
		p.Skipped = SkipTunnelPayload // a pseudowire (control word), not IP
		return n, false
	}
	if !p.pushOuter(o) {
		return n, false
	}
	return next{at, et}, true
}

// Cisco FabricPath: the outer header replaces the Ethernet one — outer
// destination (6), outer source (6), EtherType 0x8903 (2), FTag(10) TTL(6)
// — and the classic Ethernet frame follows whole.
const fabricPathLen = 16

// etherAt finds the network layer of an Ethernet frame at b[off:end] (a
// tunnel's payload): its EtherType and offset, past 802.1Q tags and PPPoE.
func etherAt(b []byte, off, end int) (n next, ok bool) {
	var l Link
	if end > len(b) {
		end = len(b)
	}
	if off > end || decodeLink(frame.LinkEthernet, b[off:end], &l) != nil {
		return n, false
	}
	return next{off + l.HeaderLen, l.EtherType}, true
}
