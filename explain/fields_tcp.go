// The TCP layer of an Explanation: the fixed header, the options, the
// checksum recomputed the way the receiver does it, and the payload.

package explain

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/internal/inetsum"
)

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
// padded with zero: the sum decode verifies with (internal/inetsum).
func onesSum(b []byte, s uint64) uint64 { return inetsum.Add(b, s) }

func foldOnes(s uint64) uint16 { return inetsum.Fold(s) }

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
