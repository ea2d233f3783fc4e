// The link, IPv4 and IPv6 layers of an Explanation: every header field
// with its offset, its bytes as they are on the wire and its value read
// with ntohs/ntohl.

package explain

import (
	"fmt"
	"strconv"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
)

// ---- link layer ----

func (b *builder) link(fr frame.Frame, l *decode.Link) {
	d := fr.Data
	if l.HeaderLen == 0 || l.HeaderLen > len(d) {
		return // raw IP: no link header, or nothing decodable
	}
	ly := Layer{Key: "link", Base: "frame", Offset: 0, Length: l.HeaderLen}
	switch fr.Meta.Link {
	case frame.LinkEthernet:
		ly.Name = "Ethernet II"
		ly.add(b.bytesField(0, d, "eth.dst", "Destination MAC", 0, 6, mac(d[0:6])))
		ly.add(b.bytesField(0, d, "eth.src", "Source MAC", 6, 6, mac(d[6:12])))
		off := 12
		for {
			f := b.num(0, d, spec{key: "eth.type", name: "EtherType", rel: off, size: 2})
			et := val(f)
			f.Meaning = etherTypeName(et)
			if (et != decode.EtherTypeVLAN && et != decode.EtherTypeQinQ && et != decode.EtherTypeQinQv1) || off+6 > len(d) {
				ly.add(f)
				break
			}
			f.Key, f.Name = "vlan.tpid", "Tag Protocol ID"
			ly.add(f)
			tci := func(key, name string, shift uint, mask uint64, pos, bits int) Field {
				return b.num(0, d, spec{key: key, name: name, rel: off + 2, size: 2, shift: shift, mask: mask, bitPos: pos, bits: bits})
			}
			pcp := tci("vlan.pcp", "Priority (PCP)", 13, 0x7, 0, 3)
			pcp.Meaning = "802.1p priority class " + strconv.FormatUint(val(pcp), 10)
			dei := tci("vlan.dei", "Drop Eligible (DEI)", 12, 0x1, 3, 1)
			dei.Meaning = "may be dropped first under congestion when 1"
			vid := tci("vlan.id", "VLAN ID", 0, 0xFFF, 4, 12)
			vid.Meaning = "VLAN " + strconv.FormatUint(val(vid), 10)
			ly.add(pcp)
			ly.add(dei)
			ly.add(vid)
			off += 4
		}
		if ly.Fields[len(ly.Fields)-1].Value != nil && val(ly.Fields[len(ly.Fields)-1]) == decode.EtherTypePPPoE {
			p := off + 2
			vt := b.num(0, d, spec{key: "pppoe.ver_type", name: "PPPoE Version/Type", rel: p, size: 1})
			vt.Meaning = "version 1, type 1 (RFC 2516)"
			code := b.num(0, d, spec{key: "pppoe.code", name: "PPPoE Code", rel: p + 1, size: 1})
			code.Meaning = "0 = session data"
			sid := b.num(0, d, spec{key: "pppoe.session_id", name: "PPPoE Session ID", rel: p + 2, size: 2})
			pl := b.num(0, d, spec{key: "pppoe.length", name: "PPPoE Length", rel: p + 4, size: 2})
			pl.Meaning = "bytes of PPP payload"
			pp := b.num(0, d, spec{key: "ppp.protocol", name: "PPP Protocol", rel: p + 6, size: 2})
			switch val(pp) {
			case 0x21:
				pp.Meaning = "0x0021 = IPv4"
			case 0x57:
				pp.Meaning = "0x0057 = IPv6"
			}
			for _, f := range []Field{vt, code, sid, pl, pp} {
				ly.add(f)
			}
		}
	case frame.LinkSLL:
		ly.Name = "Linux cooked capture v1"
		pt := b.num(0, d, spec{key: "sll.pkttype", name: "Packet Type", rel: 0, size: 2})
		pt.Meaning = sllPacketType(val(pt))
		ht := b.num(0, d, spec{key: "sll.hatype", name: "ARPHRD Type", rel: 2, size: 2})
		ht.Meaning = arphrdName(val(ht))
		hl := b.num(0, d, spec{key: "sll.halen", name: "Address Length", rel: 4, size: 2})
		n := int(min(val(hl), 8))
		ad := b.bytesField(0, d, "sll.addr", "Link Address", 6, 8, mac(d[6:6+n]))
		pr := b.num(0, d, spec{key: "sll.protocol", name: "Protocol", rel: 14, size: 2})
		pr.Meaning = etherTypeName(val(pr))
		for _, f := range []Field{pt, ht, hl, ad, pr} {
			ly.add(f)
		}
	case frame.LinkSLL2:
		ly.Name = "Linux cooked capture v2"
		pr := b.num(0, d, spec{key: "sll2.protocol", name: "Protocol", rel: 0, size: 2})
		pr.Meaning = etherTypeName(val(pr))
		rs := b.num(0, d, spec{key: "sll2.reserved", name: "Reserved", rel: 2, size: 2})
		ix := b.num(0, d, spec{key: "sll2.ifindex", name: "Interface Index", rel: 4, size: 4})
		ix.Meaning = "the capturing interface's number on that host"
		ht := b.num(0, d, spec{key: "sll2.hatype", name: "ARPHRD Type", rel: 8, size: 2})
		ht.Meaning = arphrdName(val(ht))
		pt := b.num(0, d, spec{key: "sll2.pkttype", name: "Packet Type", rel: 10, size: 1})
		pt.Meaning = sllPacketType(val(pt))
		hl := b.num(0, d, spec{key: "sll2.halen", name: "Address Length", rel: 11, size: 1})
		n := int(min(val(hl), 8))
		ad := b.bytesField(0, d, "sll2.addr", "Link Address", 12, 8, mac(d[12:12+n]))
		for _, f := range []Field{pr, rs, ix, ht, pt, hl, ad} {
			ly.add(f)
		}
	case frame.LinkNull, frame.LinkLoop:
		ly.Name = "BSD loopback"
		f := b.num(0, d, spec{key: "null.family", name: "Address Family", rel: 0, size: 4})
		fam := uint64(l.Family)
		if fr.Meta.Link == frame.LinkNull && val(f) != fam {
			// DLT_NULL is written in the capturing machine's own order, so
			// ntohl is the wrong conversion here: a classic pitfall.
			f.Conversion = fmt.Sprintf("little-endian read of (%s) = %d: DLT_NULL stores the family in the capturing host's order, not network order (ntohl would give %d)", f.Raw, fam, val(f))
			f.Value = &fam
		}
		f.Meaning = afName(fam)
		ly.add(f)
	default:
		return
	}
	b.e.Layers = append(b.e.Layers, ly)
}

// ---- IPv4 ----

func (b *builder) ipv4(base string, p *decode.Packet) {
	h := []byte(p.IPv4)
	if len(h) > p.IPv4.HeaderLen() {
		h = h[:p.IPv4.HeaderLen()]
	}
	o := p.IPOffset
	ly := Layer{Key: "ipv4", Name: "IPv4 (RFC 791)", Base: base, Offset: o, Length: len(h)}
	n := func(s spec) Field { return b.num(o, h, s) }

	ver := n(spec{key: "ipv4.version", name: "Version", size: 1, shift: 4, mask: 0xF, bits: 4})
	ver.Meaning = "4 = IPv4"
	ver.cell = []string{fmt.Sprintf("Version %d", val(ver)), fmt.Sprintf("Ver %d", val(ver))}
	ihl := n(spec{key: "ipv4.ihl", name: "IHL", size: 1, mask: 0xF, bitPos: 4, bits: 4})
	hl := int(val(ihl)) * 4
	ihl.Meaning = fmt.Sprintf("%d words × 4 = %d-byte header", val(ihl), hl)
	if hl > 20 {
		ihl.Meaning += fmt.Sprintf(" (%d bytes of options)", hl-20)
	}
	ihl.cell = cells("IHL %d", val(ihl))
	tos := n(spec{key: "ipv4.tos", name: "Type of Service", rel: 1, size: 1})
	tos.Meaning = dscpECN(uint8(val(tos)))
	tos.cell = []string{fmt.Sprintf("TOS 0x%02x", val(tos)), fmt.Sprintf("0x%02x", val(tos))}
	tl := n(spec{key: "ipv4.len", name: "Total Length", rel: 2, size: 2})
	if val(tl) == 0 {
		tl.Meaning = "0: a TSO/GSO super-packet handed to the NIC before segmentation; its length comes from the frame"
		if b.e.OrigLen > o {
			tl.Meaning += ": " + nBytes(b.e.OrigLen-o)
		}
	} else {
		tl.Meaning = fmt.Sprintf("%d-byte datagram: %d header + %d TCP segment", val(tl), hl, int(val(tl))-hl)
	}
	tl.cell = cells("Total Length %d", val(tl))
	id := n(spec{key: "ipv4.id", name: "Identification", rel: 4, size: 2})
	id.Meaning = fmt.Sprintf("0x%04x: ties the fragments of one datagram together", val(id))
	id.cell = cells("Identification %d", val(id))
	fl := n(spec{key: "ipv4.flags", name: "Flags", rel: 6, size: 2, shift: 13, mask: 0x7, bits: 3})
	fl.Meaning = ipv4Flags(val(fl))
	fl.cell = []string{fmt.Sprintf("%03b", val(fl))}
	fo := n(spec{key: "ipv4.frag_offset", name: "Fragment Offset", rel: 6, size: 2, mask: 0x1FFF, bitPos: 3, bits: 13})
	fo.Meaning = fmt.Sprintf("%d × 8 = byte %d of the original datagram", val(fo), val(fo)*8)
	if val(fo) == 0 && val(fl)&1 == 0 {
		fo.Meaning += " (not a fragment)"
	}
	fo.cell = cells("Fragment Offset %d", val(fo))
	ttl := n(spec{key: "ipv4.ttl", name: "Time to Live", rel: 8, size: 1})
	ttl.Meaning = fmt.Sprintf("may cross %d more routers; each one subtracts 1 and drops it at 0", val(ttl))
	ttl.cell = cells("TTL %d", val(ttl))
	pr := n(spec{key: "ipv4.proto", name: "Protocol", rel: 9, size: 1})
	pr.Meaning = protoName(uint8(val(pr)))
	pr.cell = []string{fmt.Sprintf("Protocol %d %s", val(pr), shortProto(uint8(val(pr)))), fmt.Sprintf("%d %s", val(pr), shortProto(uint8(val(pr)))), strconv.FormatUint(val(pr), 10)}
	ck := n(spec{key: "ipv4.checksum", name: "Header Checksum", rel: 10, size: 2})
	ck.Meaning = ipv4ChecksumMeaning(p.IPChecksum, h)
	ck.cell = []string{fmt.Sprintf("Header Checksum 0x%04x %s", val(ck), p.IPChecksum), fmt.Sprintf("0x%04x", val(ck))}
	src := b.bytesField(o, h, "ipv4.src", "Source Address", 12, 4, p.IPv4.Src().String())
	src.Meaning = "4 bytes, already in network order: no conversion (inet_ntop prints them as they are)"
	src.cell = []string{"Source Address " + src.Text, src.Text}
	dst := b.bytesField(o, h, "ipv4.dst", "Destination Address", 16, 4, p.IPv4.Dst().String())
	dst.Meaning = "4 bytes, network order as well"
	dst.cell = []string{"Destination Address " + dst.Text, dst.Text}
	for _, f := range []Field{ver, ihl, tos, tl, id, fl, fo, ttl, pr, ck, src, dst} {
		ly.add(f)
	}
	var extra []cellAt
	if hl > 20 && len(h) >= hl {
		op := b.bytesField(o, h, "ipv4.options", "Options", 20, hl-20, "")
		op.Meaning = fmt.Sprintf("%d bytes of IP options (RFC 791 §3.1), padded to a 4-byte boundary", hl-20)
		ly.add(op)
		extra = optionRows(h[20:hl], 160)
	}
	ly.Diagram = diagram(&ly, extra, "")
	b.e.Layers = append(b.e.Layers, ly)
}

// ipv4ChecksumMeaning explains the verdict; for a bad checksum it also
// computes the value the sender should have written.
func ipv4ChecksumMeaning(c decode.Checksum, h []byte) string {
	switch c {
	case decode.ChecksumOK:
		return "ok: the header's 16-bit words, checksum included, add up to 0xffff (one's complement, RFC 1071)"
	case decode.ChecksumBad:
		if len(h) >= 20 {
			s := onesSum(h[:10], 0)
			s = onesSum(h[12:], s)
			return fmt.Sprintf("bad: the header sums to 0x%04x, should be 0x%04x", foldOnes(onesSum(h, 0)), ^foldOnes(s))
		}
		return "bad"
	}
	return c.String()
}

// ---- IPv6 ----

func (b *builder) ipv6(base string, p *decode.Packet) {
	h := []byte(p.IPv6)
	o := p.IPOffset
	ly := Layer{Key: "ipv6", Name: "IPv6 (RFC 8200)", Base: base, Offset: o, Length: 40}
	n := func(s spec) Field { return b.num(o, h, s) }
	ver := n(spec{key: "ipv6.version", name: "Version", size: 1, shift: 4, mask: 0xF, bits: 4})
	ver.Meaning = "6 = IPv6"
	ver.cell = []string{fmt.Sprintf("Version %d", val(ver)), fmt.Sprintf("Ver %d", val(ver))}
	tc := n(spec{key: "ipv6.tclass", name: "Traffic Class", size: 4, shift: 20, mask: 0xFF, bitPos: 4, bits: 8})
	tc.Meaning = dscpECN(uint8(val(tc)))
	tc.cell = []string{fmt.Sprintf("Class 0x%02x", val(tc)), fmt.Sprintf("0x%02x", val(tc))}
	fl := n(spec{key: "ipv6.flow", name: "Flow Label", size: 4, mask: 0xFFFFF, bitPos: 12, bits: 20})
	if val(fl) == 0 {
		fl.Meaning = "0: no flow label"
	} else {
		fl.Meaning = fmt.Sprintf("0x%05x: the same for every packet of this flow, so routers can keep it on one path", val(fl))
	}
	fl.cell = []string{fmt.Sprintf("Flow Label 0x%05x", val(fl)), fmt.Sprintf("0x%05x", val(fl))}
	pl := n(spec{key: "ipv6.plen", name: "Payload Length", rel: 4, size: 2})
	if val(pl) == 0 {
		pl.Meaning = "0: a jumbogram or BIG TCP super-packet; the length comes from elsewhere"
	} else {
		pl.Meaning = fmt.Sprintf("%d bytes follow this fixed 40-byte header (extension headers + TCP)", val(pl))
	}
	pl.cell = cells("Payload Length %d", val(pl))
	nx := n(spec{key: "ipv6.nxt", name: "Next Header", rel: 6, size: 1})
	nx.Meaning = protoName(uint8(val(nx)))
	nx.cell = []string{fmt.Sprintf("Next %d %s", val(nx), shortProto(uint8(val(nx)))), strconv.FormatUint(val(nx), 10)}
	hop := n(spec{key: "ipv6.hlim", name: "Hop Limit", rel: 7, size: 1})
	hop.Meaning = fmt.Sprintf("may cross %d more routers (IPv6's TTL)", val(hop))
	hop.cell = cells("Hop Limit %d", val(hop))
	src := b.bytesField(o, h, "ipv6.src", "Source Address", 8, 16, p.IPv6.Src().String())
	src.Meaning = "16 bytes in network order: no conversion"
	src.cell = []string{"Source Address " + src.Text}
	dst := b.bytesField(o, h, "ipv6.dst", "Destination Address", 24, 16, p.IPv6.Dst().String())
	dst.Meaning = "16 bytes in network order"
	dst.cell = []string{"Destination Address " + dst.Text}
	for _, f := range []Field{ver, tc, fl, pl, nx, hop, src, dst} {
		ly.add(f)
	}
	ly.Diagram = diagram(&ly, nil, "")
	b.e.Layers = append(b.e.Layers, ly)
	b.ipv6Ext(base, o, h, p)
}

// ipv6Ext shows each extension header between the fixed header and TCP.
func (b *builder) ipv6Ext(base string, o int, h []byte, p *decode.Packet) {
	nh := int(h[6])
	off := 40
	for i := 0; i < 16 && off < len(h); i++ {
		var ly Layer
		switch nh {
		case decode.ProtoHopByHop, decode.ProtoRouting, decode.ProtoDestOpts:
			if off+2 > len(h) {
				return
			}
			size := (int(h[off+1]) + 1) * 8
			ly = Layer{Key: "ipv6.ext", Name: protoName(uint8(nh)), Base: base, Offset: o + off, Length: size}
			nf := b.num(o, h, spec{key: "ipv6.ext.nxt", name: "Next Header", rel: off, size: 1})
			nf.Meaning = protoName(uint8(val(nf)))
			ln := b.num(o, h, spec{key: "ipv6.ext.len", name: "Hdr Ext Len", rel: off + 1, size: 1})
			ln.Meaning = fmt.Sprintf("(%d + 1) × 8 = %d bytes, counting these two", val(ln), size)
			ly.add(nf)
			ly.add(ln)
			if size > 2 {
				d := b.bytesField(o, h, "ipv6.ext.data", "Options/Data", off+2, size-2, "")
				if nh == decode.ProtoHopByHop && p.Ext.HasJumbo {
					d.Meaning = fmt.Sprintf("includes a Jumbo Payload option (RFC 2675): %d bytes", p.Ext.Jumbo)
				}
				ly.add(d)
			}
			nh = int(val(nf))
			off += size
		case decode.ProtoFragment:
			ly = Layer{Key: "ipv6.ext", Name: protoName(uint8(nh)), Base: base, Offset: o + off, Length: 8}
			nf := b.num(o, h, spec{key: "ipv6.frag.nxt", name: "Next Header", rel: off, size: 1})
			nf.Meaning = protoName(uint8(val(nf)))
			rs := b.num(o, h, spec{key: "ipv6.frag.reserved", name: "Reserved", rel: off + 1, size: 1})
			fo := b.num(o, h, spec{key: "ipv6.frag.offset", name: "Fragment Offset", rel: off + 2, size: 2, shift: 3, mask: 0x1FFF, bits: 13})
			fo.Meaning = fmt.Sprintf("%d × 8 = byte %d of the original payload", val(fo), val(fo)*8)
			m := b.num(o, h, spec{key: "ipv6.frag.more", name: "M (more fragments)", rel: off + 2, size: 2, mask: 1, bitPos: 15, bits: 1})
			m.Meaning = "0: last fragment"
			if val(m) == 1 {
				m.Meaning = "1: more fragments follow"
			}
			if val(fo) == 0 && val(m) == 0 {
				m.Meaning += "; offset 0 and M 0: an atomic fragment, the datagram is whole (RFC 6946)"
			}
			id := b.num(o, h, spec{key: "ipv6.frag.id", name: "Identification", rel: off + 4, size: 4})
			id.Meaning = "ties the fragments of one datagram together"
			for _, f := range []Field{nf, rs, fo, m, id} {
				ly.add(f)
			}
			nh = int(val(nf))
			off += 8
		default:
			return
		}
		b.e.Layers = append(b.e.Layers, ly)
	}
}
