package decode

import (
	"errors"
	"net/netip"
	"strconv"

	"github.com/tcpscope/tcpscope/frame"
)

// Packet is one decoded frame. Views (IPv4, IPv6, TCP, Payload) alias the
// frame's bytes and are valid only as long as those bytes are. Reuse one
// Packet across frames: Decode resets it and, after the first tunnel or
// ICMP error it meets, allocates nothing.
//
// Decode clears the fields of Head for every frame. Outer and ICMP are
// kept out of line, allocated the first time a frame of this Packet needs
// them and reused after (only Outer[:NOuter] and, when HasICMP, ICMP are
// meaningful): a frame without tunnels pays nothing for them, and a Packet
// is 500 bytes smaller, which counts in a pipeline that hands thousands of
// them from core to core (see pipeline.Item). A copy of a Packet shares
// them; CopyTo makes one that does not.
type Packet struct {
	Head
	// Outer lists the encapsulations the segment travelled in, outermost
	// first (NOuter of them; nil until a frame had one); the fields of
	// Head describe the innermost IP header, the one whose addresses make
	// the connection.
	Outer *[MaxTunnels]Outer
	// ICMP: an ICMP or ICMPv6 error quoting a TCP header, when HasICMP
	// (nil until a frame was one). Head's IP fields then describe the
	// error's own IP header; TCP stays nil.
	ICMP *ICMPError
}

// CopyTo copies p into q with storage of q's own for Outer and ICMP (q's
// from an earlier frame when it has some), so that decoding into p again
// leaves q as it is.
func (p *Packet) CopyTo(q *Packet) {
	outer, icmp := q.Outer, q.ICMP
	if outer == p.Outer {
		outer = nil
	}
	if icmp == p.ICMP {
		icmp = nil
	}
	*q = *p
	q.Outer, q.ICMP = outer, icmp
	if p.NOuter > 0 {
		if q.Outer == nil {
			q.Outer = new([MaxTunnels]Outer)
		}
		copy(q.Outer[:p.NOuter], p.Outer[:p.NOuter])
	}
	if p.HasICMP {
		if q.ICMP == nil {
			q.ICMP = new(ICMPError)
		}
		*q.ICMP = *p.ICMP
	}
}

// Head is the part of a Packet cleared for every frame.
type Head struct {
	Link Link

	IPVersion  int  // 4 or 6; 0 when the frame holds no IP datagram
	IPv4       IPv4 // set when IPVersion == 4
	IPv6       IPv6 // set when IPVersion == 6
	Ext        IPv6Ext
	IPOffset   int // offset of the IP header in the frame
	Src, Dst   netip.Addr
	Proto      uint8    // upper-layer protocol
	IPChecksum Checksum // IPv4 header checksum (IPv6 has none: unverified)

	// Fragment: the datagram is a piece of a larger one; the TCP header, if
	// any, appears only once it is reassembled (see package defrag).
	Fragment bool

	NOuter  int  // encapsulations in Outer
	HasICMP bool // the frame is an ICMP error quoting TCP (Packet.ICMP)
	// Skipped says why a frame that may carry TCP was not decoded to it
	// (a tunnel not followed); SkipNone otherwise.
	Skipped Skip

	TCP         TCP // nil when the frame holds no (decodable) TCP header
	TCPOffset   int // offset of the TCP header in the frame
	Options     Options
	Payload     []byte // captured payload bytes (may be shorter than PayloadLen)
	PayloadLen  int    // payload length per the IP header (what the sender sent)
	TCPChecksum Checksum

	// Truncated: the snaplen cut the frame; some bytes the headers describe
	// were not captured.
	Truncated bool
	// TCPHeaderTruncated: fewer than 20 TCP bytes were captured; TCPPartial
	// holds what there is (ports, maybe sequence numbers) and TCP is nil.
	TCPHeaderTruncated bool
	TCPPartial         []byte
	// TCPBogus: the data offset is below 5 (a header "shorter" than the
	// fixed 20 bytes, which no correct sender emits). TCP is nil and
	// TCPPartial holds the captured segment; Wireshark still lists the
	// frame as TCP with its stream ("bogus TCP header length").
	TCPBogus bool
	// TCPShort: the IP length leaves less room than the TCP header length
	// claims (a malformed or crafted segment); it is shown, not analyzed.
	TCPShort bool

	tail     frame.Tail // the frame's (DecodeWith), for verifyTail
	frameLen int
	seg      []byte // the captured TCP segment and its length on the wire,
	segLen   int    // for VerifyTail
}

// HasTCP reports whether a TCP header was decoded.
func (p *Packet) HasTCP() bool { return p.TCP != nil }

// tcpHeadLen is how much of a TCP header Wireshark needs to place a segment
// in its stream: everything up to and including the window (offset 16).
// The checksum and urgent pointer after it play no part in the analysis.
const tcpHeadLen = tcpWindow + 2

// TCPHead returns the fixed header fields of a segment whose header could
// not be decoded whole (cut by the snaplen after the window, or with a data
// offset below 5), or p.TCP when it was. It is nil when fewer than 16 bytes
// were captured. On a cut or bogus header only SrcPort, DstPort, Seq, Ack,
// DataOffset, HeaderLen, AE, Reserved, Flags, Has and Window may be called:
// the view may end before the checksum.
func (p *Packet) TCPHead() TCP {
	if p.TCP != nil {
		return p.TCP
	}
	if len(p.TCPPartial) >= tcpHeadLen {
		return TCP(p.TCPPartial)
	}
	return nil
}

// Decode decodes frame f into p. Non-IP and non-TCP frames are not errors:
// p.TCP stays nil. An error means the frame is malformed or cut short; p
// then holds every layer decoded before the fault.
func Decode(f frame.Frame, p *Packet) error { return DecodeWith(f, p, DecodeOptions{}) }

// DecodeOptions tunes Decode for callers that need less than every field.
// The zero value decodes everything, as Decode does.
type DecodeOptions struct {
	// SkipChecksums leaves IPChecksum and TCPChecksum ChecksumUnverified
	// instead of summing every byte of the segment: summing is the
	// costliest step of decoding a full-sized segment, and a caller that
	// never shows the verdict (tcpscope stats) need not pay for it.
	SkipChecksums bool
	// BadChecksumsOnly: the caller needs to know only whether a TCP
	// checksum is bad (the text line's "bad checksum"). A field that holds
	// the pseudo-header's sum, as Linux leaves it for offload (every
	// segment captured on loopback), then gives ChecksumPartial at once,
	// without summing the payload: the full sum could, by a 1 in 65 536
	// chance, also check out (ChecksumOK), but either way it is not bad.
	BadChecksumsOnly bool
}

// DecodeWith is Decode with options; it allocates nothing either.
func DecodeWith(f frame.Frame, p *Packet, o DecodeOptions) error { return DecodeFrame(&f, p, o) }

// DecodeFrame is DecodeWith for a frame the caller holds: the pipeline's
// items keep theirs in place, and a Frame (104 bytes) passed by value is
// copied at every call.
func DecodeFrame(f *frame.Frame, p *Packet, o DecodeOptions) error {
	// Cleared in place, then two fields set: a composite literal with
	// them was built in a temporary and copied, 1 088 bytes moved per
	// frame (4 % of stats's instructions).
	p.Head = Head{}
	p.tail, p.frameLen = f.Tail, len(f.Data)
	if err := decodeLink(f.Meta.Link, f.Data, &p.Link); err != nil {
		return err
	}
	p.Truncated = f.Meta.OrigLen > f.Meta.CapLen
	wire := f.Meta.OrigLen - p.Link.HeaderLen // datagram length on the wire
	if wire < 0 || f.Meta.OrigLen == 0 {
		wire = len(f.Data) - p.Link.HeaderLen
	}
	return decodeIP(f.Data, p.Link.HeaderLen, p.Link.EtherType, wire, p, o)
}

// DecodeIP decodes a bare IP datagram (for example one rebuilt from
// fragments) into p, resetting it first.
func DecodeIP(b []byte, p *Packet) error { return DecodeIPWith(b, p, DecodeOptions{}) }

// DecodeIPWith is DecodeIP with options (see DecodeWith).
func DecodeIPWith(b []byte, p *Packet, o DecodeOptions) error {
	p.Head = Head{}
	if len(b) == 0 {
		return errAt("ip", 0, ErrTruncated, "empty datagram")
	}
	et := uint16(EtherTypeIPv4)
	if b[0]>>4 == 6 {
		et = EtherTypeIPv6
	}
	return decodeIP(b, 0, et, len(b), p, o)
}

func decodeIP(b []byte, off int, etherType uint16, wire int, p *Packet, o DecodeOptions) error {
	// Each turn decodes one layer and moves off to the next; every tunnel
	// adds an Outer (at most MaxTunnels), and an Ethernet header inside a
	// tunnel moves off forward by at least its 14 bytes, so this ends.
	for {
		var n next
		var ok bool
		switch etherType {
		case EtherTypeIPv4, EtherTypeIPv6:
			var end int
			var err error
			n, end, ok, err = decodeOneIP(b, off, etherType, wire, p, o)
			if err != nil || !ok {
				return err
			}
			wire = end - n.off
		case EtherTypeMPLS, EtherTypeMPLSMC:
			if n, ok = p.mpls(b, off, len(b), p.IPVersion == 0); !ok {
				return nil
			}
			wire -= n.off - off
		case EtherTypeFP:
			// The link decoder stopped after the outer EtherType; the
			// FTag/TTL word and then a whole Ethernet frame follow.
			// A frame cut inside the FabricPath header is not followed: an
			// outer layer is recorded only with all its bytes captured.
			if off < ethHeaderLen || off-ethHeaderLen+fabricPathLen > len(b) ||
				!p.pushOuter(Outer{Encap: EncapFabricPath, Offset: int32(off - ethHeaderLen), Len: fabricPathLen, Ether: true}) {
				return nil
			}
			if n, ok = etherAt(b, off+2, len(b)); !ok {
				return nil
			}
			wire -= n.off - off
		case EtherTypeTEB:
			if n, ok = etherAt(b, off, len(b)); !ok {
				return nil
			}
			wire -= n.off - off
		default:
			return nil
		}
		off, etherType = n.off, n.et
	}
}

// decodeOneIP decodes the IP header at b[off:] into p and, for TCP, the
// segment after it. When the payload is a tunnel, ok is true, n says where
// the inner layer starts and end is where the datagram ends on the wire
// (its own length, capped by the frame's).
func decodeOneIP(b []byte, off int, etherType uint16, wire int, p *Packet, o DecodeOptions) (n next, end int, ok bool, err error) {
	p.IPOffset = off
	var seg []byte // the TCP segment as the IP header delimits it (captured part)
	var segLen int // its length on the wire
	switch etherType {
	case EtherTypeIPv4:
		h, err := ParseIPv4(b[off:])
		if err != nil {
			if errors.Is(err, ErrTruncated) && len(b)-off >= ipv4MinLen && wire <= len(b)-off {
				// The whole packet was captured and is shorter than its
				// header: not the snaplen's doing but a bogus packet.
				hl := int(b[off]&0x0F) * 4
				err = errOwn("ipv4", 0, ErrMalformed, "Malformed Packet: a "+strconv.Itoa(hl)+"-byte IPv4 header in a "+strconv.Itoa(wire)+"-byte packet")
			}
			return n, 0, false, shift(err, off)
		}
		p.IPVersion, p.IPv4 = 4, h
		p.Src, p.Dst, p.Proto = h.Src(), h.Dst(), h.Protocol()
		if !o.SkipChecksums {
			p.IPChecksum = ChecksumBad
			if h.ChecksumOK() {
				p.IPChecksum = ChecksumOK
			}
		}
		if h.IsFragment() {
			p.Fragment = true
			return n, 0, false, nil
		}
		payOff := off + h.HeaderLen()
		if p.Proto == ProtoICMP {
			p.icmp(b, payOff, off+h.HeaderLen()+len(h.Payload()))
			return n, 0, false, nil
		}
		if p.Proto != ProtoTCP {
			end = payOff + h.PayloadLen(wire)
			n, ok = p.ipTunnel(b, payOff, min(end, off+len(h.Payload())+h.HeaderLen()))
			return n, end, ok, nil
		}
		seg, segLen = h.Payload(), h.PayloadLen(wire)
		p.TCPOffset = payOff
	case EtherTypeIPv6:
		h, err := ParseIPv6(b[off:])
		if err != nil {
			return n, 0, false, shift(err, off)
		}
		p.IPVersion, p.IPv6 = 6, h
		p.Src, p.Dst = h.Src(), h.Dst()
		if err := h.WalkExt(&p.Ext); err != nil {
			return n, 0, false, shift(err, off)
		}
		p.Proto = p.Ext.Proto
		if p.Ext.Frag && !p.Ext.Atomic() {
			p.Fragment = true
			return n, 0, false, nil
		}
		total := ipv6HeaderLen + int(h.PayloadLen())
		switch {
		case p.Ext.HasJumbo:
			total = ipv6HeaderLen + int(p.Ext.Jumbo)
		case h.PayloadLen() == 0:
			total = wire // BIG TCP without a jumbo option: trust the frame
		}
		if total > wire {
			total = wire // the header claims more than was on the wire
		}
		capEnd := len(h)
		if total < capEnd {
			capEnd = total
		}
		if capEnd < p.Ext.Offset {
			capEnd = p.Ext.Offset
		}
		if p.Proto == ProtoICMPv6 {
			p.icmp(b, off+p.Ext.Offset, off+capEnd)
			return n, 0, false, nil
		}
		if p.Proto != ProtoTCP {
			n, ok = p.ipTunnel(b, off+p.Ext.Offset, off+capEnd)
			return n, off + total, ok, nil
		}
		seg = h[p.Ext.Offset:capEnd]
		segLen = total - p.Ext.Offset
		p.TCPOffset = off + p.Ext.Offset
	default:
		return n, 0, false, nil
	}
	return n, 0, false, p.decodeTCP(seg, segLen, o)
}

// decodeTCP decodes the TCP segment seg (captured bytes; segLen on the
// wire) of the IP header already in p.
func (p *Packet) decodeTCP(seg []byte, segLen int, o DecodeOptions) error {
	t, err := ParseTCP(seg)
	if t == nil {
		if len(seg) > 0 {
			p.TCPPartial = seg
			p.TCPHeaderTruncated = len(seg) < tcpMinLen
			if h := p.TCPHead(); h != nil {
				// The fixed fields up to the window were captured: the
				// payload length follows from the IP length and the
				// data offset (however bogus), as Wireshark reckons it.
				p.TCPBogus = h.DataOffset() < 5
				p.PayloadLen = segLen - h.HeaderLen()
				if p.PayloadLen < 0 {
					p.PayloadLen = 0
				}
			} else if len(seg) >= tcpDataOff+1 {
				p.TCPBogus = TCP(seg).DataOffset() < 5
			}
			p.Truncated = p.Truncated || p.TCPHeaderTruncated
		}
		return shift(err, p.TCPOffset)
	}
	p.TCP = t
	ParseOptions(t, &p.Options)
	hl := t.HeaderLen()
	p.PayloadLen = segLen - hl
	if p.PayloadLen < 0 {
		// The IP header says the segment is shorter than the TCP header
		// says its own header is. Wireshark calls this a "short segment"
		// and does not analyze it; neither do we.
		p.PayloadLen = 0
		p.TCPShort = true
		if err == nil {
			err = errAt("tcp", 0, ErrMalformed, "segment of "+strconv.Itoa(segLen)+" bytes is shorter than its "+strconv.Itoa(hl)+"-byte header")
		}
	}
	if hl <= len(seg) {
		p.Payload = seg[hl:]
		if len(p.Payload) > p.PayloadLen {
			p.Payload = p.Payload[:p.PayloadLen]
		}
	}
	// Truncated is decided again here, from the IP packet: a frame cut
	// only in its link-layer padding (a 60-byte Ethernet frame of a 40-byte
	// packet, captured as 54 bytes) holds the whole packet, and nothing is
	// missing.
	p.Truncated = len(seg) < segLen || err != nil
	switch {
	case p.Truncated:
	case o.SkipChecksums:
		// Left ChecksumUnverified on purpose (DecodeOptions).
	case o.BadChecksumsOnly && partialField(p.pseudoSum(segLen), seg):
		p.TCPChecksum = ChecksumPartial
	case p.tail.Off > 0:
		p.seg, p.segLen = seg, segLen
		p.TCPChecksum = p.verifyTail(seg, segLen)
	default:
		p.TCPChecksum = verifySum(p.pseudoSum(segLen), seg[:segLen], 0)
	}
	return shift(err, p.TCPOffset)
}

// pseudoSum is the sum of the segment's pseudo-header (RFC 9293 §3.1 for
// IPv4, RFC 8200 §8.1 for IPv6).
func (p *Packet) pseudoSum(segLen int) uint64 {
	if p.IPVersion == 4 {
		return pseudoSum(p.IPv4[ipv4Src:ipv4Src+4], p.IPv4[ipv4Dst:ipv4Dst+4], segLen)
	}
	return pseudoSum(p.IPv6[ipv6Src:ipv6Src+16], p.IPv6[ipv6Dst:ipv6Dst+16], segLen)
}

// VerifyTail completes the TCP checksum verdict of a frame decoded from
// its head alone (frame.Tail), once its source has added up the rest: t is
// the frame's Tail with Summed set. A verdict already given (or a frame
// decoded whole) is left as it is.
func (p *Packet) VerifyTail(t frame.Tail) {
	if p.TCP == nil || p.seg == nil || p.TCPChecksum != ChecksumUnverified {
		return
	}
	p.tail = t
	p.TCPChecksum = p.verifyTail(p.seg, p.segLen)
}

// verifyTail verifies the checksum of a segment whose frame was copied only
// up to p.tail.Off (frame.Tail): its bytes from there were added up by the
// source (Tail.Summed; if not yet, the verdict waits for VerifyTail). That
// sum stands in for theirs when the segment
// runs to the frame's end (no link-layer trailer after it, nothing cut by
// the snaplen) and starts an even number of bytes before Off (so the
// 16-bit words line up). Otherwise it says ChecksumUnverified, and a
// caller that copies heads (pipeline.Options.HeadersOnly) copies the frame
// whole and decodes it again.
func (p *Packet) verifyTail(seg []byte, segLen int) Checksum {
	cut := p.tail.Off - p.TCPOffset
	if !p.tail.Summed || cut < tcpMinLen || cut%2 != 0 || len(seg) != segLen || p.TCPOffset+segLen != p.frameLen {
		return ChecksumUnverified
	}
	return verifySum(p.pseudoSum(segLen), seg[:cut], uint64(p.tail.Sum))
}

// shift moves an *Error's offset from layer-relative to frame-relative.
func shift(err error, by int) error {
	if e, ok := err.(*Error); ok {
		e.Offset += by
	}
	return err
}

// PayloadOffset is the offset of Payload's first byte in the frame's
// bytes, or -1 when there is no payload or it does not lie in them (a
// segment rebuilt from fragments: AdoptTCP). A source that copied only the
// frame's head can then lend the payload where it lies (frame.TailViewer).
func (p *Packet) PayloadOffset() int {
	if p.TCP == nil || len(p.Payload) == 0 || p.TCPOffset < 0 {
		return -1
	}
	return p.TCPOffset + p.TCP.HeaderLen()
}

// SrcAddrPort returns the source address and TCP port.
func (p *Packet) SrcAddrPort() netip.AddrPort {
	return netip.AddrPortFrom(p.Src, p.TCPHead().SrcPort())
}

// DstAddrPort returns the destination address and TCP port.
func (p *Packet) DstAddrPort() netip.AddrPort {
	return netip.AddrPortFrom(p.Dst, p.TCPHead().DstPort())
}

// AdoptTCP takes the TCP layer of q, decoded from a datagram rebuilt from
// fragments, into p, which keeps its own link and IP headers: the frame
// that completed the datagram shows its own IP header with the whole segment,
// as Wireshark shows it.
func (p *Packet) AdoptTCP(q *Packet) {
	p.Proto = q.Proto
	p.TCP, p.TCPOffset = q.TCP, -1
	p.Options = q.Options
	p.Payload, p.PayloadLen = q.Payload, q.PayloadLen
	p.TCPChecksum = q.TCPChecksum
	p.TCPHeaderTruncated, p.TCPPartial, p.TCPShort, p.TCPBogus = q.TCPHeaderTruncated, q.TCPPartial, q.TCPShort, q.TCPBogus
	p.Fragment = false
}
