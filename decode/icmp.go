package decode

import "net/netip"

// ICMP errors (RFC 792, RFC 4443) quote the start of the datagram that
// caused them: its IP header and at least 8 bytes after it — for TCP, the
// ports and the sequence number; Linux quotes up to 576 (ICMP) or 1280
// (ICMPv6) bytes, so usually the whole TCP header. Wireshark dissects the
// quoted header as TCP: with the whole header it gets the stream of its
// connection (a new one if the connection is not in the capture), but it
// never takes part in the sequence analysis.
//
// ICMP header (both versions):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Type      |     Code      |          Checksum             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  rest: unused, next-hop MTU (type 3 code 4: low 16 bits; ICMPv6 |
//	|  type 2: 32 bits) or the gateway address (redirect)           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  the quoted datagram: IP header + at least 8 bytes …          |
const (
	icmpType      = 0
	icmpCode      = 1
	icmpRest      = 4 // 4 bytes, network order
	icmpHeaderLen = 8
	ProtoICMP     = 1
)

// ICMPError is an ICMP or ICMPv6 error that quotes a TCP header.
type ICMPError struct {
	V6         bool  // ICMPv6
	Type, Code uint8 // as on the wire
	// MTU: the next-hop MTU of "fragmentation needed" (ICMP 3/4) or
	// "packet too big" (ICMPv6 2); 0 otherwise.
	MTU uint32
	// Gateway: the router a redirect (ICMP 5) points to.
	Gateway netip.Addr
	// Src, Dst: the quoted datagram's addresses (the TCP connection's).
	Src, Dst netip.Addr
	// TCP holds the quoted TCP bytes that were captured (maybe fewer than
	// 20); TCPOffset is their offset in the frame.
	TCP       []byte
	TCPOffset int
	// QuotedFrame is the frame of the quoted segment, when the pipeline
	// saw it (decode alone leaves it 0).
	QuotedFrame int
}

// Whole reports whether the quoted TCP header is there in full (its data
// offset's worth of bytes): Wireshark then gives it a stream.
func (e *ICMPError) Whole() bool {
	return len(e.TCP) >= tcpMinLen && TCP(e.TCP).DataOffset() >= 5 && len(e.TCP) >= TCP(e.TCP).HeaderLen()
}

// Head returns the quoted header's fixed fields when Whole.
func (e *ICMPError) Head() TCP {
	if e.Whole() {
		return TCP(e.TCP)
	}
	return nil
}

// Text names the error in a few words ("fragmentation needed").
func (e *ICMPError) Text() string {
	if e.V6 {
		switch e.Type {
		case 1:
			if e.Code == 4 {
				return "port unreachable"
			}
			return "destination unreachable"
		case 2:
			return "packet too big"
		case 3:
			return "time exceeded"
		case 4:
			return "parameter problem"
		}
		return "error"
	}
	switch e.Type {
	case 3:
		switch e.Code {
		case 0:
			return "network unreachable"
		case 1:
			return "host unreachable"
		case 2:
			return "protocol unreachable"
		case 3:
			return "port unreachable"
		case 4:
			return "fragmentation needed"
		case 13:
			return "communication administratively prohibited"
		}
		return "destination unreachable"
	case 4:
		return "source quench"
	case 5:
		return "redirect"
	case 11:
		return "time exceeded"
	case 12:
		return "parameter problem"
	}
	return "error"
}

// isICMPError reports whether an ICMP (v6) type is an error that quotes a
// datagram.
func isICMPError(v6 bool, typ uint8) bool {
	if v6 {
		return typ >= 1 && typ <= 4
	}
	return typ == 3 || typ == 4 || typ == 5 || typ == 11 || typ == 12
}

// icmp decodes the ICMP message at b[off:end] of the IP header in p; when it
// is an error quoting a TCP header it fills p.ICMP.
func (p *Packet) icmp(b []byte, off, end int) {
	if end > len(b) {
		end = len(b)
	}
	if end-off < icmpHeaderLen {
		return
	}
	v6 := p.IPVersion == 6
	typ, code := b[off+icmpType], b[off+icmpCode]
	if !isICMPError(v6, typ) {
		return
	}
	q := b[off+icmpHeaderLen : end] // the quoted datagram, as captured
	e := ICMPError{V6: v6, Type: typ, Code: code}
	rest := ntohl(b[off+icmpRest:])
	switch {
	case !v6 && typ == 3 && code == 4:
		e.MTU = rest & 0xFFFF
	case v6 && typ == 2:
		e.MTU = rest
	case !v6 && typ == 5:
		e.Gateway = netip.AddrFrom4([4]byte(b[off+icmpRest : off+icmpRest+4]))
	}
	var tcpAt int
	switch {
	case len(q) >= ipv4MinLen && q[0]>>4 == 4:
		h := IPv4(q)
		if h.IHL() < 5 || len(q) < h.HeaderLen() || h.Protocol() != ProtoTCP || h.IsFragment() && h.FragOffset() != 0 {
			return
		}
		e.Src, e.Dst = h.Src(), h.Dst()
		tcpAt = h.HeaderLen()
		if tl := int(h.TotalLen()); tl >= tcpAt && tl < len(q) {
			q = q[:tl]
		}
	case len(q) >= ipv6HeaderLen && q[0]>>4 == 6:
		h := IPv6(q)
		var x IPv6Ext
		if h.WalkExt(&x) != nil || x.Proto != ProtoTCP || x.Frag && x.FragOffset != 0 {
			return
		}
		e.Src, e.Dst = h.Src(), h.Dst()
		tcpAt = x.Offset
	default:
		return
	}
	if len(q) < tcpAt+4 {
		return // not even the ports
	}
	e.TCP = q[tcpAt:]
	e.TCPOffset = off + icmpHeaderLen + tcpAt
	if p.ICMP == nil {
		p.ICMP = new(ICMPError) // once per Packet: it is reused
	}
	*p.ICMP = e
	p.HasICMP = true
}
