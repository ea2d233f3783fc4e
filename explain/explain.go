package explain

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/pipeline"
)

// Explanation is everything tcpscope shows about one frame. It is plain
// data: WriteText and WriteJSON render the same value, so the text a
// lecturer projects and the JSON a script reads cannot disagree. The JSON
// key names are part of tcpscope's interface; do not rename them.
type Explanation struct {
	Frame    int    `json:"frame"`
	Stream   *int   `json:"stream,omitempty"` // tcp.stream, when the caller knows it
	CapLen   int    `json:"captured_bytes"`
	OrigLen  int    `json:"wire_bytes"`
	LinkType string `json:"link_type"`
	// HostOrder is the byte order of the CPU this ran on ("little-endian"
	// or "big-endian"): the "unconverted" values depend on it.
	HostOrder string `json:"host_byte_order"`
	// Summary is a one-line description: addresses, ports, flags.
	Summary string `json:"summary"`
	// Problems lists what is wrong with the frame (truncated, malformed,
	// bad checksum), in words.
	Problems []string `json:"problems,omitempty"`
	Layers   []Layer  `json:"layers"`
	Payload  *Payload `json:"payload,omitempty"`
}

// Layer is one header: link, IPv4, IPv6, an IPv6 extension header, TCP.
type Layer struct {
	Key  string `json:"key"`  // stable: "link", "ipv4", "ipv6", "ipv6.ext", "tcp"
	Name string `json:"name"` // for people: "Ethernet II", "IPv4", "TCP"…
	// Base names what Offset and the fields' offsets count from: "frame",
	// or "reassembled datagram" for a TCP header rebuilt from IP fragments
	// (it exists in no single frame).
	Base   string  `json:"offsets_in"`
	Offset int     `json:"offset"`
	Length int     `json:"length"` // header length in bytes (as captured when cut short)
	Fields []Field `json:"fields"`
	// Diagram is the RFC-style picture of the header (32-bit rows under a
	// 0..31 bit ruler) filled with this packet's values; empty for layers
	// that have no standard picture.
	Diagram []string `json:"diagram,omitempty"`
}

// Field is one header field (or one TCP option, or one bit of the flags).
type Field struct {
	Key  string `json:"key"`  // stable machine name, e.g. "tcp.srcport", "ipv4.ttl", "tcp.opt.mss"
	Name string `json:"name"` // for people, e.g. "Source Port"
	// Offset is the byte offset of the field's first byte in the frame (or
	// datagram, see Layer.Base). Bits is its width; BitOffset is where it
	// starts inside that first byte, 0 being the most significant bit, for
	// fields that are not whole bytes (IHL, flags, flow label…).
	Offset    int `json:"offset"`
	Bits      int `json:"bits"`
	BitOffset int `json:"bit_offset"`
	// Raw is the bytes holding the field, in network order, as hex ("1f 90").
	// For a field of a few bits it is the whole byte or word it lives in.
	Raw string `json:"raw,omitempty"`
	// Value is the field's host-order value, after conversion (nil for
	// fields that are not numbers, such as addresses: see Text).
	Value *uint64 `json:"value,omitempty"`
	Text  string  `json:"text,omitempty"` // a non-numeric value: an address
	// Conversion shows how Value came from Raw: "ntohs(1f 90) = 8080",
	// "0x45 >> 4 = 4". Empty for single bytes, which have no byte order.
	Conversion string `json:"conversion,omitempty"`
	// Unconverted is what a program reading Raw in this host's own byte
	// order, without ntohs/ntohl, would get (nil when there is no
	// difference to show: single bytes and addresses).
	Unconverted *uint64 `json:"unconverted,omitempty"`
	Meaning     string  `json:"meaning,omitempty"`
	// Depth nests sub-fields: 1 for TCP options and flag bits, 2 for the
	// parts of an option (a SACK block edge, TSval).
	Depth int `json:"depth,omitempty"`
	// Missing: the field's bytes were not captured (the snaplen cut the frame).
	Missing bool `json:"not_captured,omitempty"`

	cell []string // diagram text candidates, longest first; nil = not drawn
}

// Payload is the TCP payload that was captured.
type Payload struct {
	Base     string `json:"offsets_in"`
	Offset   int    `json:"offset"`   // of the first payload byte
	Length   int    `json:"length"`   // as the IP header says it was sent
	Captured int    `json:"captured"` // bytes present in the capture
	Hex      string `json:"hex"`      // the captured bytes, no spaces
	ascii    []byte
}

// Meta is what Build needs besides the decoded packet: the frame itself
// (for the link header, and to show the frame's own IP header when the TCP
// segment was reassembled from fragments), and what the caller knows.
type Meta struct {
	Frame frame.Frame
	// Stream is tcp.stream from the analyzer; -1 when unknown.
	Stream int
	// Reassembled: the packet was decoded from a datagram rebuilt from IP
	// fragments, the last of which is Frame (pipeline.Item.Reassembled).
	Reassembled bool
	// DecodeErr is the error decode returned for this frame, if any.
	DecodeErr error
	// Sender is "client" or "server" when the analyzer saw the
	// connection's handshake and so knows who sent this segment (the SYN's
	// sender is the client); "" otherwise, and the ports are guessed at.
	Sender string
}

// MetaOf returns the Meta for a pipeline item, so that a command looping
// over pipeline.Next can call Write(w, theme, MetaOf(&it), &it.Packet).
func MetaOf(it *pipeline.Item) Meta {
	m := Meta{Frame: it.Frame, Stream: -1, Reassembled: it.Reassembled, DecodeErr: it.DecodeErr}
	if it.Analyzed || it.Located {
		m.Stream = it.Result.Stream
		if who, sure := it.Result.Note.Sender(); sure {
			m.Sender = who
		}
	}
	return m
}

// HostOrderName names a byte order by what it does to 0x0102.
func HostOrderName(o binary.ByteOrder) string {
	if o.Uint16([]byte{1, 2}) == 0x0201 {
		return "little-endian"
	}
	return "big-endian"
}

// Build explains packet p of frame m. order is the byte order a program
// on this host would read memory in; pass nil for this CPU's own
// (binary.NativeEndian), or a fixed order to get output that does not
// depend on the machine (the tests do).
func Build(m Meta, p *decode.Packet, order binary.ByteOrder) *Explanation {
	if order == nil {
		order = binary.NativeEndian
	}
	e := &Explanation{
		Frame:     m.Frame.Meta.Number,
		CapLen:    m.Frame.Meta.CapLen,
		OrigLen:   m.Frame.Meta.OrigLen,
		LinkType:  linkName(m.Frame.Meta.Link),
		HostOrder: HostOrderName(order),
	}
	if e.CapLen == 0 {
		e.CapLen = len(m.Frame.Data)
	}
	if m.Stream >= 0 {
		s := m.Stream
		e.Stream = &s
	}
	b := builder{o: order, e: e, sender: m.Sender}

	// ip is the packet whose link and IP headers are shown: normally p; for
	// a reassembled segment, the frame's own headers, decoded again (p's
	// IP header is the rebuilt datagram's, which was never on the wire).
	ip, ipBase := p, "frame"
	if m.Reassembled {
		var own decode.Packet
		if err := decode.Decode(m.Frame, &own); err == nil || own.IPVersion != 0 {
			ip = &own
		} else {
			ipBase = "reassembled datagram"
		}
	}
	if ipBase == "frame" {
		b.link(m.Frame, &ip.Link)
		b.outer(m.Frame, ip)
	}
	switch ip.IPVersion {
	case 4:
		b.ipv4(ipBase, ip)
	case 6:
		b.ipv6(ipBase, ip)
	}
	tcpBase := "frame"
	if m.Reassembled {
		tcpBase = "reassembled datagram"
		e.Problems = append(e.Problems, "the TCP segment was rebuilt from IP fragments: its offsets count from the start of the reassembled datagram")
	}
	switch {
	case p.TCP != nil:
		b.tcp(tcpBase, p.TCPOffset, p.TCP, p)
		b.payload(tcpBase, p)
	case len(p.TCPPartial) > 0: // cut short, or a bogus header length
		b.tcp(tcpBase, p.TCPOffset, p.TCPPartial, p)
	case p.HasICMP:
		b.icmp(m.Frame, p)
	}
	b.problems(m, p)
	e.Summary = summary(p)
	return e
}

// problems lists, in words, what decode found wrong.
func (b *builder) problems(m Meta, p *decode.Packet) {
	e := b.e
	if m.DecodeErr != nil {
		e.Problems = append(e.Problems, "decode: "+m.DecodeErr.Error())
	}
	if p.Truncated && e.OrigLen > e.CapLen {
		e.Problems = append(e.Problems, fmt.Sprintf("the capture kept %d of the %d bytes on the wire (snaplen): later fields and payload are missing", e.CapLen, e.OrigLen))
	}
	if p.TCPHeaderTruncated {
		e.Problems = append(e.Problems, fmt.Sprintf("TCP header cut short: %d of at least 20 bytes captured", len(p.TCPPartial)))
	}
	if p.TCPBogus && len(p.TCPPartial) > 12 {
		e.Problems = append(e.Problems, fmt.Sprintf("bogus TCP header length (%d bytes, must be at least 20): Wireshark stops there; the segment counts in its stream but is not analysed", decode.TCP(p.TCPPartial).HeaderLen()))
	}
	if p.TCPShort {
		e.Problems = append(e.Problems, "the IP length leaves less room than the TCP header claims (short segment)")
	}
	if p.TCP != nil && p.Options.Malformed != "" && cutBySnaplen(p.TCP, p.Options.Malformed) {
		e.Problems = append(e.Problems, "TCP options cut short by the snaplen: "+p.Options.Malformed)
	} else if p.TCP != nil && p.Options.Malformed != "" {
		e.Problems = append(e.Problems, "malformed TCP option: "+p.Options.Malformed)
	}
	if p.IPVersion == 4 && p.IPChecksum == decode.ChecksumBad {
		e.Problems = append(e.Problems, "bad IPv4 header checksum")
	}
	if p.TCP != nil && p.TCPChecksum == decode.ChecksumBad {
		e.Problems = append(e.Problems, "bad TCP checksum")
	}
}

// summary is the one-liner at the top: who talks to whom, with which flags.
func summary(p *decode.Packet) string {
	s := summary1(p)
	for i := 0; i < p.NOuter; i++ {
		o := &p.Outer[i]
		s += ", in " + o.Encap.String()
		if o.HasID {
			s += " " + strconv.FormatUint(uint64(o.ID), 10)
		}
		if o.IPVersion() != 0 {
			s += " " + o.Src().String() + " → " + o.Dst().String()
		}
	}
	return s
}

func summary1(p *decode.Packet) string {
	switch {
	case p.HasICMP:
		e := p.ICMP
		t := decode.TCP(e.TCP)
		s := fmt.Sprintf("%s → %s  ICMP %s", p.Src, p.Dst, e.Text())
		if e.V6 {
			s = fmt.Sprintf("%s → %s  ICMPv6 %s", p.Src, p.Dst, e.Text())
		}
		if e.MTU != 0 {
			s += fmt.Sprintf(", MTU %d", e.MTU)
		}
		return s + fmt.Sprintf(", quoting %s → %s", netip.AddrPortFrom(e.Src, t.SrcPort()), netip.AddrPortFrom(e.Dst, t.DstPort()))
	case p.TCP != nil:
		return fmt.Sprintf("%s → %s  [%s]  %d payload bytes", p.SrcAddrPort(), p.DstAddrPort(), flagList(p.TCP.Flags(), p.TCP.AE()), p.PayloadLen)
	case p.TCPHead() != nil && p.TCPBogus:
		return fmt.Sprintf("%s → %s  bogus TCP header length", p.SrcAddrPort(), p.DstAddrPort())
	case p.TCPHead() != nil:
		return fmt.Sprintf("%s → %s  [%s]  TCP header cut short", p.SrcAddrPort(), p.DstAddrPort(), flagList(p.TCPHead().Flags(), p.TCPHead().AE()))
	case p.TCPHeaderTruncated:
		return fmt.Sprintf("%s → %s  TCP header cut short", p.Src, p.Dst)
	case p.IPVersion != 0:
		return fmt.Sprintf("%s → %s  %s, not TCP", p.Src, p.Dst, protoName(p.Proto))
	}
	return "no IP datagram"
}

// flagList spells the set flags of byte 13 (and AE) as "SYN,ACK".
func flagList(f uint8, ae bool) string {
	var s []string
	if ae {
		s = append(s, "AE")
	}
	for i := 0; i < 8; i++ {
		if f&(0x80>>i) != 0 {
			s = append(s, decode.FlagName(i))
		}
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ",")
}

func linkName(l frame.LinkType) string {
	switch l {
	case frame.LinkEthernet:
		return "Ethernet (EN10MB)"
	case frame.LinkNull:
		return "BSD loopback (NULL)"
	case frame.LinkLoop:
		return "OpenBSD loopback (LOOP)"
	case frame.LinkSLL:
		return "Linux cooked capture v1 (LINUX_SLL)"
	case frame.LinkSLL2:
		return "Linux cooked capture v2 (LINUX_SLL2)"
	case frame.LinkRaw, frame.LinkIPv4, frame.LinkIPv6:
		return "raw IP (RAW)"
	}
	return l.String()
}

// protoName names an IP protocol number (IANA "Assigned Internet Protocol Numbers").
func protoName(p uint8) string {
	switch p {
	case 0:
		return "IPv6 Hop-by-Hop Options"
	case 1:
		return "ICMP"
	case 4:
		return "IPv4-in-IP"
	case 6:
		return "TCP"
	case 17:
		return "UDP"
	case 41:
		return "IPv6-in-IP"
	case 43:
		return "IPv6 Routing header"
	case 44:
		return "IPv6 Fragment header"
	case 47:
		return "GRE"
	case 50:
		return "ESP"
	case 51:
		return "AH"
	case 58:
		return "ICMPv6"
	case 59:
		return "no next header"
	case 60:
		return "IPv6 Destination Options"
	case 132:
		return "SCTP"
	}
	return "protocol " + strconv.Itoa(int(p))
}
