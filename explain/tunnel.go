package explain

import (
	"fmt"
	"strconv"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
)

// outer explains the encapsulations a tunnelled segment travelled in, in
// frame order: each carrying IP header, the tunnel's own header, and the
// Ethernet header inside it when there is one. Their fields are shown like
// every other header's, with offsets and network-to-host conversions.
func (b *builder) outer(fr frame.Frame, p *decode.Packet) {
	d := fr.Data
	for i := 0; i < p.NOuter; i++ {
		o := &p.Outer[i]
		ipOff, encOff, encLen := int(o.IPOffset), int(o.Offset), int(o.Len)
		if o.IPVersion() != 0 && ipOff < len(d) {
			var op decode.Packet
			op.IPOffset = ipOff
			at := len(b.e.Layers)
			if o.IPVersion() == 4 {
				h, err := decode.ParseIPv4(d[ipOff:])
				if err != nil {
					continue
				}
				op.IPVersion, op.IPv4, op.IPChecksum = 4, h, decode.ChecksumBad
				if h.ChecksumOK() {
					op.IPChecksum = decode.ChecksumOK
				}
				b.ipv4("frame", &op)
			} else {
				h, err := decode.ParseIPv6(d[ipOff:])
				if err != nil {
					continue
				}
				op.IPVersion, op.IPv6 = 6, h
				h.WalkExt(&op.Ext)
				b.ipv6("frame", &op)
			}
			for j := at; j < len(b.e.Layers); j++ {
				ly := &b.e.Layers[j]
				ly.Key = "outer." + ly.Key
				ly.Name += fmt.Sprintf(", outer header %d of %d (carries %s)", i+1, p.NOuter, o.Encap)
			}
		}
		b.encapHeader(d, o, encOff, encLen)
		if o.Ether {
			b.innerEther(d, encOff+encLen)
		}
	}
}

// encapHeader explains the tunnel's own header at o.Offset (o.Len bytes).
func (b *builder) encapHeader(d []byte, o *decode.Outer, off, length int) {
	if length == 0 || off+length > len(d) {
		return
	}
	h := d[off : off+length]
	ly := Layer{Key: "encap." + o.Encap.String(), Base: "frame", Offset: off, Length: length}
	n := func(s spec, meaning string) {
		f := b.num(off, h, s)
		f.Meaning = meaning
		ly.add(f)
	}
	udp := func() int {
		n(spec{key: "udp.srcport", name: "UDP Source Port", rel: 0, size: 2}, "")
		n(spec{key: "udp.dstport", name: "UDP Destination Port", rel: 2, size: 2}, "the tunnel's well-known port")
		n(spec{key: "udp.length", name: "UDP Length", rel: 4, size: 2}, "UDP header + tunnel header + inner packet")
		n(spec{key: "udp.checksum", name: "UDP Checksum", rel: 6, size: 2}, "")
		return 8
	}
	switch o.Encap {
	case decode.EncapVXLAN:
		ly.Name = "UDP + VXLAN (RFC 7348)"
		u := udp()
		n(spec{key: "vxlan.flags", name: "VXLAN Flags", rel: u, size: 1}, "0x08: I, the VNI is valid")
		n(spec{key: "vxlan.vni", name: "VNI", rel: u + 4, size: 4, shift: 8, mask: 0xFFFFFF, bits: 24}, "VXLAN network "+strconv.FormatUint(uint64(o.ID), 10))
	case decode.EncapGeneve:
		ly.Name = "UDP + Geneve (RFC 8926)"
		u := udp()
		n(spec{key: "geneve.optlen", name: "Options Length", rel: u, size: 1, mask: 0x3F, bitPos: 2, bits: 6}, "in 4-byte words")
		n(spec{key: "geneve.proto", name: "Protocol Type", rel: u + 2, size: 2}, "an EtherType (0x6558: Ethernet)")
		n(spec{key: "geneve.vni", name: "VNI", rel: u + 4, size: 4, shift: 8, mask: 0xFFFFFF, bits: 24}, "virtual network "+strconv.FormatUint(uint64(o.ID), 10))
	case decode.EncapGTPU:
		ly.Name = "UDP + GTP-U (3GPP TS 29.281)"
		u := udp()
		n(spec{key: "gtp.flags", name: "Flags", rel: u, size: 1}, "version 1, GTP (not GTP'), E/S/PN: optional fields")
		n(spec{key: "gtp.type", name: "Message Type", rel: u + 1, size: 1}, "255 = G-PDU: a user packet follows")
		n(spec{key: "gtp.length", name: "Length", rel: u + 2, size: 2}, "bytes after the first 8")
		n(spec{key: "gtp.teid", name: "TEID", rel: u + 4, size: 4}, "tunnel endpoint: which bearer this packet belongs to")
	case decode.EncapCAPWAP:
		ly.Name = "UDP + CAPWAP data (RFC 5415)"
		u := udp()
		n(spec{key: "capwap.preamble", name: "Preamble", rel: u, size: 1}, "version 0, type 0 (not DTLS)")
		n(spec{key: "capwap.hlen", name: "HLEN", rel: u, size: 4, shift: 19, mask: 0x1F, bitPos: 8, bits: 5}, "header length in 4-byte words")
		n(spec{key: "capwap.wbid", name: "WBID", rel: u, size: 4, shift: 9, mask: 0x1F, bitPos: 18, bits: 5}, "wireless binding (1 = IEEE 802.11)")
		n(spec{key: "capwap.t", name: "T", rel: u, size: 4, shift: 8, mask: 1, bitPos: 23, bits: 1}, "0: the payload is an IEEE 802.3 frame")
	case decode.EncapGRE, decode.EncapERSPAN2, decode.EncapERSPAN3:
		ly.Name = "GRE (RFC 2784, RFC 2890)"
		n(spec{key: "gre.flags", name: "Flags and Version", rel: 0, size: 2}, "C K S bits say which optional words follow; version 0 (1: PPTP)")
		n(spec{key: "gre.proto", name: "Protocol Type", rel: 2, size: 2}, etherTypeName(uint64(decode.Ntohs(h[2:]))))
		if o.Encap != decode.EncapGRE {
			ly.Name = "GRE + ERSPAN"
			if o.Encap == decode.EncapERSPAN3 {
				ly.Name += " type III"
			} else {
				ly.Name += " type II"
			}
			if o.HasID {
				// The session ID sits in the second 16-bit word of the
				// ERSPAN header, which ends the GRE header's optional words.
				e := length - 8
				if o.Encap == decode.EncapERSPAN3 {
					e = greLen(h)
				}
				n(spec{key: "erspan.session", name: "Session ID", rel: e + 2, size: 2, mask: 0x3FF, bitPos: 6, bits: 10}, "the mirroring session")
			}
		} else if o.HasID {
			ly.add(Field{Key: "gre.key", Name: "Key", Offset: off + 4 + 4*boolInt(decode.Ntohs(h)&0xC000 != 0), Bits: 32,
				Value: ptr(uint64(o.ID)), Meaning: "tells tunnels between the same two hosts apart"})
		}
	case decode.EncapMPLS:
		ly.Name = "MPLS label stack (RFC 3032)"
		for r := 0; r+4 <= len(h); r += 4 {
			n(spec{key: "mpls.label", name: "Label", rel: r, size: 4, shift: 12, mask: 0xFFFFF, bits: 20}, "")
			n(spec{key: "mpls.bottom", name: "Bottom of Stack", rel: r, size: 4, shift: 8, mask: 1, bitPos: 23, bits: 1}, "1: the last label, the packet follows")
			n(spec{key: "mpls.ttl", name: "TTL", rel: r + 3, size: 1}, "")
		}
	case decode.EncapFabricPath:
		ly.Name = "Cisco FabricPath"
		ly.add(b.bytesField(off, h, "cfp.dst", "Outer Destination", 0, 6, mac(h[0:6])))
		ly.add(b.bytesField(off, h, "cfp.src", "Outer Source", 6, 6, mac(h[6:12])))
		n(spec{key: "cfp.type", name: "EtherType", rel: 12, size: 2}, "0x8903 = FabricPath")
		n(spec{key: "cfp.ftag", name: "FTag", rel: 14, size: 2, shift: 6, mask: 0x3FF, bits: 10}, "forwarding tag: which multidestination tree")
		n(spec{key: "cfp.ttl", name: "TTL", rel: 14, size: 2, mask: 0x3F, bitPos: 10, bits: 6}, "")
	default:
		ly.Name = o.Encap.String()
	}
	b.e.Layers = append(b.e.Layers, ly)
}

// innerEther explains the Ethernet header a tunnel carries at off.
func (b *builder) innerEther(d []byte, off int) {
	if off+14 > len(d) {
		return
	}
	h := d[off : off+14]
	ly := Layer{Key: "encap.eth", Name: "Ethernet II, inside the tunnel", Base: "frame", Offset: off, Length: 14}
	ly.add(b.bytesField(off, h, "eth.dst", "Destination MAC", 0, 6, mac(h[0:6])))
	ly.add(b.bytesField(off, h, "eth.src", "Source MAC", 6, 6, mac(h[6:12])))
	f := b.num(off, h, spec{key: "eth.type", name: "EtherType", rel: 12, size: 2})
	f.Meaning = etherTypeName(val(f))
	ly.add(f)
	b.e.Layers = append(b.e.Layers, ly)
}

// greLen is the length of a GRE header from its flags (RFC 2784, 2890).
func greLen(h []byte) int {
	fl := decode.Ntohs(h)
	n := 4
	for _, bit := range []uint16{0x8000, 0x2000, 0x1000} {
		if fl&bit != 0 {
			n += 4
		}
	}
	return n
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

func ptr(v uint64) *uint64 { return &v }

// icmp explains an ICMP error quoting a TCP header: the ICMP header, then
// the quoted IP and TCP headers at their own offsets.
func (b *builder) icmp(fr frame.Frame, p *decode.Packet) {
	e := p.ICMP
	d := fr.Data
	q := e.TCPOffset // quoted TCP header
	start := -1
	for _, ly := range b.e.Layers {
		if ly.Key == "ipv4" || ly.Key == "ipv6" {
			start = ly.Offset + ly.Length
		}
	}
	if p.IPVersion == 6 {
		start = p.IPOffset + p.Ext.Offset
	}
	if start < 0 || start+8 > len(d) {
		return
	}
	h := d[start : start+8]
	name := "ICMP (RFC 792)"
	if e.V6 {
		name = "ICMPv6 (RFC 4443)"
	}
	ly := Layer{Key: "icmp", Name: name, Base: "frame", Offset: start, Length: 8}
	f := b.num(start, h, spec{key: "icmp.type", name: "Type", rel: 0, size: 1})
	f.Meaning = e.Text()
	ly.add(f)
	ly.add(b.num(start, h, spec{key: "icmp.code", name: "Code", rel: 1, size: 1}))
	ly.add(b.num(start, h, spec{key: "icmp.checksum", name: "Checksum", rel: 2, size: 2}))
	switch {
	case e.MTU != 0 && !e.V6:
		f = b.num(start, h, spec{key: "icmp.mtu", name: "Next-Hop MTU", rel: 6, size: 2})
		f.Meaning = "the largest packet the next link takes: send smaller segments (path MTU discovery, RFC 1191)"
		ly.add(f)
	case e.MTU != 0:
		f = b.num(start, h, spec{key: "icmp.mtu", name: "MTU", rel: 4, size: 4})
		f.Meaning = "the largest packet the next link takes (RFC 8201)"
		ly.add(f)
	case e.Gateway.IsValid():
		ly.add(b.bytesField(start, h, "icmp.gateway", "Gateway Address", 4, 4, e.Gateway.String()))
	}
	b.e.Layers = append(b.e.Layers, ly)
	// The quoted headers: what the router saw of the segment.
	ip := start + 8
	var op decode.Packet
	op.IPOffset = ip
	at := len(b.e.Layers)
	if ip < len(d) && d[ip]>>4 == 4 {
		if h, err := decode.ParseIPv4(d[ip:]); err == nil {
			op.IPVersion, op.IPv4 = 4, h
			b.ipv4("frame", &op)
		}
	} else if h, err := decode.ParseIPv6(d[ip:]); err == nil {
		op.IPVersion, op.IPv6 = 6, h
		h.WalkExt(&op.Ext)
		b.ipv6("frame", &op)
	}
	if head := e.Head(); head != nil {
		op.TCP = head
		op.TCPOffset = q
		op.Src, op.Dst = e.Src, e.Dst
		decode.ParseOptions(head, &op.Options)
		b.tcp("frame", q, head, &op)
	} else {
		op.TCPHeaderTruncated, op.TCPPartial = true, e.TCP
		b.tcp("frame", q, e.TCP, &op)
	}
	for j := at; j < len(b.e.Layers); j++ {
		b.e.Layers[j].Key = "icmp.quoted." + b.e.Layers[j].Key
		b.e.Layers[j].Name += ", quoted in the ICMP error"
	}
}
