package explain

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
)

// builder accumulates the layers of one Explanation.
type builder struct {
	o      binary.ByteOrder // the order a program on this host reads memory in
	e      *Explanation
	sender string // "client", "server" (from the handshake) or "" (unknown)
}

// spec locates a numeric field inside a header. The field is read as the
// whole 1-, 2- or 4-byte word that holds it (converted with ntohs/ntohl),
// then shifted and masked: that is how C code reads the IHL, the fragment
// offset or the flow label, and showing both steps is the point.
type spec struct {
	key, name string
	rel       int    // offset of the word from the start of the header
	size      int    // bytes in the word: 1, 2 or 4
	shift     uint   // right shift applied to the host-order word
	mask      uint64 // mask applied after the shift; 0 = the whole word
	bitPos    int    // first bit of the field within the word, 0 = most significant
	bits      int    // width of the field; 0 = the whole word
}

// num reads the field described by s from hdr, the captured bytes of a
// header that starts at frame offset base. A field whose bytes were not
// captured comes back with Missing set and no value.
func (b *builder) num(base int, hdr []byte, s spec) Field {
	bits := s.bits
	if bits == 0 {
		bits = s.size * 8
	}
	f := Field{Key: s.key, Name: s.name, Offset: base + s.rel + s.bitPos/8, Bits: bits, BitOffset: s.bitPos % 8}
	if s.rel+s.size > len(hdr) {
		f.Missing = true
		f.cell = []string{"(not captured)", "?"}
		return f
	}
	raw := hdr[s.rel : s.rel+s.size]
	f.Raw = hexBytes(raw)
	var word, native uint64
	var fn string
	switch s.size {
	case 1:
		word = uint64(raw[0])
	case 2:
		word, native, fn = uint64(decode.Ntohs(raw)), uint64(b.o.Uint16(raw)), "ntohs"
	case 4:
		word, native, fn = uint64(decode.Ntohl(raw)), uint64(b.o.Uint32(raw)), "ntohl"
	}
	v := word
	if s.mask != 0 {
		v = (word >> s.shift) & s.mask
		native = (native >> s.shift) & s.mask
	}
	f.Value = &v
	switch {
	case s.size == 1 && s.mask == 0:
		// One byte has no byte order: nothing to convert.
	case s.size == 1:
		f.Conversion = fmt.Sprintf("%s = %d", shiftMask(fmt.Sprintf("0x%02x", word), s.shift, s.mask), v)
	case s.mask == 0:
		f.Conversion = fmt.Sprintf("%s(%s) = %d", fn, f.Raw, v)
		f.Unconverted = &native
	default:
		f.Conversion = fmt.Sprintf("%s(%s) = 0x%0*x; %s = %d", fn, f.Raw, s.size*2, word, shiftMask("", s.shift, s.mask), v)
		f.Unconverted = &native
	}
	return f
}

// shiftMask writes the C expression that extracts a field from word w.
func shiftMask(w string, shift uint, mask uint64) string {
	sh, m := "", ""
	if shift > 0 {
		sh = fmt.Sprintf(">> %d", shift)
	}
	if mask != 0 {
		m = fmt.Sprintf("& 0x%x", mask)
	}
	switch {
	case w == "" && sh != "" && m != "":
		return "(" + sh + ") " + m
	case w == "":
		return strings.TrimSpace(sh + m)
	case sh != "" && m != "" && !maskIsRest(shift, mask, len(w)):
		return "(" + w + " " + sh + ") " + m
	case sh != "":
		return w + " " + sh
	}
	return w + " " + m
}

// maskIsRest reports whether the mask keeps every bit left after the shift
// of a one-byte word (written as 0xNN, 4 characters), so it can be omitted.
func maskIsRest(shift uint, mask uint64, wlen int) bool {
	return wlen == 4 && mask == 0xFF>>shift
}

// bytesField shows a run of bytes that is not a number: an address, the
// options area.
func (b *builder) bytesField(base int, hdr []byte, key, name string, rel, n int, text string) Field {
	f := Field{Key: key, Name: name, Offset: base + rel, Bits: n * 8, Text: text}
	if rel+n > len(hdr) {
		f.Missing = true
		f.Text = ""
		f.cell = []string{"(not captured)", "?"}
		return f
	}
	f.Raw = hexBytes(hdr[rel : rel+n])
	return f
}

func hexBytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(' ')
		}
		s.WriteString(hex.EncodeToString([]byte{c}))
	}
	return s.String()
}

func val(f Field) uint64 {
	if f.Value == nil {
		return 0
	}
	return *f.Value
}

func (l *Layer) add(f Field) { l.Fields = append(l.Fields, f) }

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

// ---- TCP ----

var flagMeaning = [8]string{
	"congestion window reduced: the sender reacted to an ECN echo",
	"ECN echo: congestion was seen (in a SYN: ECN supported)",
	"urgent: the urgent pointer is valid",
	"acknowledgment: the Acknowledgment Number is valid",
	"push: deliver to the application now",
	"reset: abort the connection",
	"synchronize: open a connection; Sequence Number is the ISN",
	"finish: the sender has no more data",
}

// tcp explains the TCP header h (the captured bytes, at least 20 unless the
// snaplen cut it) found at offset o.
func (b *builder) tcp(base string, o int, h []byte, p *decode.Packet) {
	full := h
	hl := 20
	if len(h) >= 13 {
		hl = int(h[12]>>4) * 4
	}
	if hl >= 20 && len(h) > hl {
		h = h[:hl]
	}
	ly := Layer{Key: "tcp", Name: "TCP (RFC 9293)", Base: base, Offset: o, Length: len(h)}
	n := func(s spec) Field { return b.num(o, h, s) }
	flags := uint8(0)
	if len(h) > 13 {
		flags = h[13]
	}
	syn, ack := flags&decode.FlagSYN != 0, flags&decode.FlagACK != 0

	sp := n(spec{key: "tcp.srcport", name: "Source Port", size: 2})
	sp.Meaning = portMeaning(sp, b.sender)
	sp.cell = cells("Source Port %d", val(sp))
	dp := n(spec{key: "tcp.dstport", name: "Destination Port", rel: 2, size: 2})
	dp.Meaning = portMeaning(dp, other(b.sender))
	dp.cell = cells("Destination Port %d", val(dp))
	seq := n(spec{key: "tcp.seq", name: "Sequence Number", rel: 4, size: 4})
	switch {
	case syn:
		seq.Meaning = "SYN: the initial sequence number (ISN); the first data byte will be ISN+1"
	case p.PayloadLen > 0:
		seq.Meaning = "number of the first payload byte in the sender's byte stream"
	default:
		seq.Meaning = "no payload: the number of the next byte the sender will send"
	}
	seq.cell = cells("Sequence Number %d", val(seq))
	ak := n(spec{key: "tcp.ack", name: "Acknowledgment Number", rel: 8, size: 4})
	if ack {
		ak.Meaning = "ACK set: every byte before this one was received; this is the next byte expected"
	} else {
		ak.Meaning = "ACK clear: ignored by the receiver"
	}
	ak.cell = cells("Acknowledgment Number %d", val(ak))
	do := n(spec{key: "tcp.data_offset", name: "Data Offset", rel: 12, size: 1, shift: 4, mask: 0xF, bits: 4})
	do.Meaning = fmt.Sprintf("%d words × 4 = %d-byte header", val(do), val(do)*4)
	if val(do) > 5 {
		do.Meaning += fmt.Sprintf(" (%d bytes of options)", val(do)*4-20)
	} else if val(do) < 5 && !do.Missing {
		do.Meaning += ": less than 20, malformed"
	}
	do.cell = []string{fmt.Sprintf("Off %d", val(do)), strconv.FormatUint(val(do), 10)}
	rs := n(spec{key: "tcp.reserved", name: "Reserved", rel: 12, size: 1, shift: 1, mask: 0x7, bitPos: 4, bits: 3})
	rs.Meaning = "must be zero"
	if val(rs) != 0 {
		rs.Meaning = "not zero: a sender that does not follow RFC 9293"
	}
	rs.cell = []string{fmt.Sprintf("%03b", val(rs))}
	ae := n(spec{key: "tcp.ae", name: "AE", rel: 12, size: 1, mask: 0x1, bitPos: 7, bits: 1})
	ae.Meaning = "Accurate ECN (RFC 9768), formerly NS: 0"
	if val(ae) == 1 {
		ae.Meaning = "Accurate ECN (RFC 9768), formerly NS: set"
	}
	ae.cell = cells("%d", val(ae))
	fb := n(spec{key: "tcp.flags", name: "Flags", rel: 13, size: 1})
	if !fb.Missing {
		fb.Meaning = fmt.Sprintf("0x%02x = %04b %04b: %s", flags, flags>>4, flags&0xF, flagList(flags, false))
	}
	for _, f := range []Field{sp, dp, seq, ak, do, rs, ae, fb} {
		ly.add(f)
	}
	for i := 0; i < 8; i++ {
		name := decode.FlagName(i)
		f := n(spec{key: "tcp.flags." + strings.ToLower(name), name: name, rel: 13, size: 1, shift: uint(7 - i), mask: 1, bitPos: i, bits: 1})
		f.Depth = 1
		if val(f) == 1 {
			f.Meaning = "1 " + flagMeaning[i]
		} else if !f.Missing {
			f.Meaning = "0"
		}
		f.cell = cells("%d", val(f))
		ly.add(f)
	}
	win := n(spec{key: "tcp.window", name: "Window", rel: 14, size: 2})
	win.Meaning = fmt.Sprintf("the sender can take %d more bytes, before window scaling", val(win))
	if syn {
		win.Meaning = fmt.Sprintf("the sender can take %s; never scaled in a SYN", nBytes(int(val(win))))
	} else if p.Options.HasWScale {
		win.Meaning += " (× 2^scale negotiated in the handshake)"
	}
	win.cell = cells("Window %d", val(win))
	ck := n(spec{key: "tcp.checksum", name: "Checksum", rel: 16, size: 2})
	if !ck.Missing {
		ck.Meaning = tcpChecksumMeaning(p, full)
		ck.cell = []string{fmt.Sprintf("Checksum 0x%04x %s", val(ck), shortStatus(p.TCPChecksum)), fmt.Sprintf("0x%04x", val(ck))}
	}
	ur := n(spec{key: "tcp.urgent", name: "Urgent Pointer", rel: 18, size: 2})
	if flags&decode.FlagURG != 0 {
		ur.Meaning = fmt.Sprintf("URG set: urgent data ends %s after the sequence number", nBytes(int(val(ur))))
	} else if !ur.Missing {
		ur.Meaning = "URG clear: ignored"
	}
	ur.cell = cells("Urgent Pointer %d", val(ur))
	for _, f := range []Field{win, ck, ur} {
		ly.add(f)
	}
	var extra []cellAt
	if p.TCP != nil && hl > 20 {
		b.options(&ly, o, p.TCP)
		if len(h) >= hl {
			extra = optionRows(h[20:hl], 160)
		}
	}
	if len(h) < hl && len(h) >= 20 {
		ly.add(Field{Key: "tcp.options", Name: "Options", Offset: o + len(h), Bits: (hl - len(h)) * 8, Missing: true,
			Meaning: fmt.Sprintf("%d of %d option bytes not captured", hl-len(h), hl-20)})
	}
	legend := "flags: 1 = set; after Reserved come AE, CWR, ECE, URG, ACK, PSH, RST, SYN, FIN"
	ly.Diagram = diagram(&ly, extra, legend)
	b.e.Layers = append(b.e.Layers, ly)
}

// tcpChecksumMeaning explains the verdict decode reached on the checksum.
func tcpChecksumMeaning(p *decode.Packet, seg []byte) string {
	switch p.TCPChecksum {
	case decode.ChecksumOK:
		return "ok: pseudo-header (addresses, protocol, length) + header + payload sum to 0xffff"
	case decode.ChecksumBad:
		if want, ok := tcpChecksumWant(p, seg); ok {
			return fmt.Sprintf("bad: should be 0x%04x (one's-complement sum over pseudo-header, header and payload)", want)
		}
		return "bad"
	case decode.ChecksumPartial:
		return "unverified: partial checksum, as on loopback: the sender left the sum for NIC offload"
	}
	if p.TCP == nil {
		return "unverified: the TCP header was not fully captured"
	}
	if p.TCPShort {
		return "unverified: the IP length ends inside the TCP header, so there is no segment to sum"
	}
	return "unverified: the segment was not fully captured, so it cannot be summed"
}

// tcpChecksumWant computes the checksum the sender should have written.
func tcpChecksumWant(p *decode.Packet, seg []byte) (uint16, bool) {
	n := p.TCP.HeaderLen() + p.PayloadLen
	if n > len(seg) || n < 20 {
		return 0, false
	}
	s := ipBytes(p.Src, 0)
	s = ipBytes(p.Dst, s)
	s += uint64(decode.ProtoTCP) + uint64(n)
	s = onesSum(seg[:16], s)
	s = onesSum(seg[18:n], s)
	return ^foldOnes(s), true
}

func ipBytes(a netip.Addr, s uint64) uint64 {
	if a.Is4() {
		b := a.As4()
		return onesSum(b[:], s)
	}
	b := a.As16()
	return onesSum(b[:], s)
}

// onesSum adds b as big-endian 16-bit words (RFC 1071), an odd last byte
// padded with zero.
func onesSum(b []byte, s uint64) uint64 {
	for len(b) >= 2 {
		s += uint64(decode.Ntohs(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

func foldOnes(s uint64) uint16 {
	for s > 0xFFFF {
		s = s>>16 + s&0xFFFF
	}
	return uint16(s)
}

// options lists every TCP option as it sits on the wire, one by one.
func (b *builder) options(ly *Layer, o int, t decode.TCP) {
	it := decode.NewOptionIter(t)
	for it.Next() {
		op := it.Option()
		raw := []byte(t[op.Offset : op.Offset+op.Len])
		f := Field{Offset: o + op.Offset, Bits: op.Len * 8, Raw: hexBytes(raw), Depth: 1}
		k := uint64(op.Kind)
		f.Value = &k
		var parts []Field
		part := func(key, name string, rel, size int) Field {
			x := b.num(o, t, spec{key: key, name: name, rel: op.Offset + rel, size: size})
			x.Depth = 2
			return x
		}
		switch op.Kind {
		case decode.OptEOL:
			f.Key, f.Name, f.Meaning = "tcp.opt.eol", "End of Option List", "kind 0: no more options; the rest is padding"
		case decode.OptNOP:
			f.Key, f.Name, f.Meaning = "tcp.opt.nop", "No-Operation", "kind 1: padding, so the next option starts on a convenient boundary"
		case decode.OptMSS:
			x := part("tcp.opt.mss", "MSS", 2, 2)
			x.Meaning = fmt.Sprintf("the largest segment payload the sender can receive: %s", nBytes(int(val(x))))
			f.Key, f.Name, f.Meaning = "tcp.opt.mss.option", "Maximum Segment Size", fmt.Sprintf("kind 2, length 4: MSS %d", val(x))
			parts = append(parts, x)
		case decode.OptWScale:
			x := part("tcp.opt.wscale", "Shift Count", 2, 1)
			sh := val(x)
			x.Meaning = fmt.Sprintf("windows the sender advertises from now on are × 2^%d = × %d", sh, uint64(1)<<min(sh, 14))
			if sh > 14 {
				x.Meaning += fmt.Sprintf(" (%d is over the limit of 14 and is treated as 14, RFC 7323 §2.3)", sh)
			}
			f.Key, f.Name, f.Meaning = "tcp.opt.wscale.option", "Window Scale", fmt.Sprintf("kind 3, length 3: shift %d", sh)
			parts = append(parts, x)
		case decode.OptSACKPerm:
			f.Key, f.Name, f.Meaning = "tcp.opt.sack_perm", "SACK Permitted", "kind 4, length 2: the sender understands selective acknowledgments"
		case decode.OptSACK:
			nb := (op.Len - 2) / 8
			f.Key, f.Name = "tcp.opt.sack", "SACK"
			f.Meaning = fmt.Sprintf("kind 5, length %d: %d block(s) of bytes received beyond the ACK", op.Len, nb)
			if nb == 0 {
				f.Meaning = "kind 5, length 2: no blocks (an empty SACK option)"
			}
			for i := 0; i < nb; i++ {
				l := part("tcp.opt.sack.left", fmt.Sprintf("Block %d Left Edge", i+1), 2+8*i, 4)
				l.Meaning = "first byte of a block that arrived"
				r := part("tcp.opt.sack.right", fmt.Sprintf("Block %d Right Edge", i+1), 6+8*i, 4)
				r.Meaning = fmt.Sprintf("one past its last byte: %s", nBytes(int(uint32(val(r)-val(l)))))
				parts = append(parts, l, r)
			}
		case decode.OptTimestamp:
			tv := part("tcp.opt.ts.tsval", "TSval", 2, 4)
			tv.Meaning = "the sender's timestamp clock now"
			te := part("tcp.opt.ts.tsecr", "TSecr", 6, 4)
			te.Meaning = "echo of the last TSval received from the peer (RTT measurement)"
			if t.Has(decode.FlagSYN) && !t.Has(decode.FlagACK) && val(te) == 0 {
				te.Meaning = "0 in a first SYN: nothing to echo yet"
			}
			f.Key, f.Name, f.Meaning = "tcp.opt.ts", "Timestamps", fmt.Sprintf("kind 8, length 10: TSval %d, TSecr %d", val(tv), val(te))
			parts = append(parts, tv, te)
		default:
			f.Key = "tcp.opt.unknown"
			f.Name = optionName(op.Kind)
			f.Meaning = fmt.Sprintf("kind %d, length %d: not interpreted by tcpscope", op.Kind, op.Len)
		}
		// The value column already says "kind N".
		f.Meaning = strings.TrimPrefix(strings.TrimPrefix(f.Meaning, fmt.Sprintf("kind %d, ", op.Kind)), fmt.Sprintf("kind %d: ", op.Kind))
		ly.add(f)
		for _, x := range parts {
			ly.add(x)
		}
	}
	if e := it.Err(); e != "" {
		off := it.ErrOffset()
		end := min(t.HeaderLen(), len(t))
		f := Field{Key: "tcp.opt.malformed", Name: "Malformed option", Offset: o + off, Depth: 1,
			Meaning: e + "; the option bytes from here on are not interpreted"}
		if cutBySnaplen(t, e) {
			// The snaplen cut the option, it is not necessarily malformed.
			f.Key, f.Name = "tcp.opt.truncated", "Option cut short"
			f.Meaning = "the capture ends inside this option (" + e + ")"
		}
		if off < end {
			f.Raw = hexBytes(t[off:end])
			f.Bits = (end - off) * 8
		}
		ly.add(f)
	}
}

// optionName names TCP option kinds tcpscope shows but does not interpret.
func optionName(k uint8) string {
	switch k {
	case decode.OptMD5:
		return "TCP MD5 Signature (kind 19)"
	case 27:
		return "Quick-Start Response (kind 27)"
	case 28:
		return "User Timeout (kind 28)"
	case decode.OptAO:
		return "TCP Authentication Option (kind 29)"
	case decode.OptMPTCP:
		return "Multipath TCP (kind 30)"
	case decode.OptFastOpen:
		return "TCP Fast Open Cookie (kind 34)"
	case 172:
		return "Accurate ECN Order 0 (kind 172)"
	case 174:
		return "Accurate ECN Order 1 (kind 174)"
	case 253, 254:
		return fmt.Sprintf("Experimental (kind %d)", k)
	}
	return fmt.Sprintf("Unknown option (kind %d)", k)
}

// ---- payload ----

func (b *builder) payload(base string, p *decode.Packet) {
	off := p.TCPOffset + p.TCP.HeaderLen()
	b.e.Payload = &Payload{Base: base, Offset: off, Length: p.PayloadLen, Captured: len(p.Payload),
		Hex: hex.EncodeToString(p.Payload), ascii: p.Payload}
}

// ---- names ----

func cells(format string, v uint64) []string {
	long := fmt.Sprintf(format, v)
	short := strconv.FormatUint(v, 10)
	if long == short {
		return []string{long}
	}
	return []string{long, short}
}

func mac(b []byte) string { return net.HardwareAddr(b).String() }

func etherTypeName(t uint64) string {
	switch t {
	case decode.EtherTypeIPv4:
		return "0x0800 = IPv4"
	case decode.EtherTypeIPv6:
		return "0x86dd = IPv6"
	case decode.EtherTypeVLAN:
		return "0x8100 = an 802.1Q VLAN tag follows"
	case decode.EtherTypeQinQ:
		return "0x88a8 = an 802.1ad (Q-in-Q) service tag follows"
	case decode.EtherTypeQinQv1:
		return "0x9100 = a pre-standard Q-in-Q tag follows"
	case decode.EtherTypePPPoE:
		return "0x8864 = PPPoE session"
	case 0x0806:
		return "0x0806 = ARP"
	}
	return fmt.Sprintf("0x%04x", t)
}

func sllPacketType(v uint64) string {
	switch v {
	case 0:
		return "0 = addressed to this host"
	case 1:
		return "1 = broadcast"
	case 2:
		return "2 = multicast"
	case 3:
		return "3 = to another host (promiscuous)"
	case 4:
		return "4 = sent by this host"
	}
	return strconv.FormatUint(v, 10)
}

func arphrdName(v uint64) string {
	switch v {
	case 1:
		return "1 = Ethernet"
	case 772:
		return "772 = loopback"
	case 65534:
		return "65534 = no link header (tunnel)"
	}
	return strconv.FormatUint(v, 10)
}

func afName(v uint64) string {
	switch {
	case v == 2:
		return "2 = AF_INET (IPv4)"
	case v == 10 || v == 24 || v == 28 || v == 30:
		return strconv.FormatUint(v, 10) + " = AF_INET6 (IPv6; the number differs between systems)"
	}
	return strconv.FormatUint(v, 10)
}

func shortProto(p uint8) string {
	switch p {
	case 6:
		return "TCP"
	case 17:
		return "UDP"
	case 1:
		return "ICMP"
	case 58:
		return "ICMPv6"
	case 0:
		return "HBH"
	case 44:
		return "Frag"
	case 43:
		return "Rout"
	case 60:
		return "Dest"
	}
	return ""
}

func shortStatus(c decode.Checksum) string {
	switch c {
	case decode.ChecksumOK:
		return "ok"
	case decode.ChecksumBad:
		return "bad"
	}
	return "unverified"
}

func ipv4Flags(v uint64) string {
	var s []string
	if v&4 != 0 {
		s = append(s, "reserved bit set (evil bit, RFC 3514)")
	}
	if v&2 != 0 {
		s = append(s, "DF: don't fragment")
	}
	if v&1 != 0 {
		s = append(s, "MF: more fragments follow")
	}
	if len(s) == 0 {
		return fmt.Sprintf("%03b: may be fragmented, last (or only) fragment", v)
	}
	return fmt.Sprintf("%03b: %s", v, strings.Join(s, ", "))
}

// dscpECN splits a TOS / Traffic Class byte into DSCP (6 bits) and ECN (2).
func dscpECN(v uint8) string {
	ecn := [4]string{"Not-ECT", "ECT(1)", "ECT(0)", "CE: congestion experienced"}
	return fmt.Sprintf("DSCP %d, ECN %d (%s)", v>>2, v&3, ecn[v&3])
}

var wellKnown = map[uint64]string{20: "FTP data", 21: "FTP", 22: "SSH", 23: "Telnet", 25: "SMTP", 53: "DNS", 80: "HTTP",
	110: "POP3", 143: "IMAP", 179: "BGP", 389: "LDAP", 443: "HTTPS", 445: "SMB", 1723: "PPTP", 3306: "MySQL", 5432: "PostgreSQL",
	6379: "Redis", 8080: "HTTP alternate"}

// portMeaning says whose port a port field holds. role is the role of the
// end that owns it, "client" or "server", when the connection's handshake
// was seen (the SYN's sender is the client, so the port the SYN went to is
// the server's); without it, the port number is all there is to go by.
func portMeaning(f Field, role string) string {
	if f.Missing {
		return ""
	}
	v := val(f)
	name, known := wellKnown[v]
	switch role {
	case "server":
		if known {
			return "the server's port (the SYN went to it): well-known port of " + name
		}
		return "the server's port (the SYN went to it)"
	case "client":
		if v >= 32768 {
			return "the client's port (it sent the SYN): an ephemeral port the kernel chose"
		}
		return "the client's port (it sent the SYN)"
	}
	if known {
		return "well-known port of " + name
	}
	if v >= 32768 {
		return "probably an ephemeral (client) port"
	}
	return ""
}

// other is the role of the other end.
func other(role string) string {
	switch role {
	case "client":
		return "server"
	case "server":
		return "client"
	}
	return ""
}

// cutBySnaplen reports whether the option error msg (from decode) is only
// the capture ending inside the option, rather than a malformed option.
func cutBySnaplen(t decode.TCP, msg string) bool {
	return len(t) < t.HeaderLen() && (strings.Contains(msg, "runs past") || strings.Contains(msg, "length byte missing"))
}

// nBytes writes "1 byte" or "N bytes".
func nBytes(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}
