// Command encap writes tcpscope's generated test captures (pcaps/gen-*.pcap):
// the real loopback TCP segments of two of the project's own captures
// (pcaps/lo-reset.pcap for IPv4, the IPv6 frames of pcaps/lo-mixed.pcapng),
// carried in the tunnels and link types Wireshark decodes, cut inside the
// TCP header, given a bogus header length, or quoted in ICMP errors.
//
// Every header it adds is written out field by field here (it is test data:
// what tcpscope's decoder is checked against is tshark's reading of these
// files, committed in pcaps/tshark/). Outer addresses are from the
// documentation ranges (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32); the
// files are only written, nothing is sent.
//
// Usage: go run ./pcaps/gen/encap [-out DIR]   (from the repository root)
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// frame is one base segment: a bare IP datagram and its capture time.
type frame struct {
	ip []byte
	t  time.Time
}

// rec is one record to write: frame bytes, wire length, time.
type rec struct {
	data []byte
	wire int
	t    time.Time
}

func main() {
	out := flag.String("out", "pcaps", "directory to write the captures into")
	flag.Parse()
	v4, err := baseFrames("pcaps/lo-reset.pcap", 0x0800, 0)
	if err != nil {
		fail(err)
	}
	v6, err := baseFrames("pcaps/lo-mixed.pcapng", 0x86DD, 40)
	if err != nil {
		fail(err)
	}
	all := append(append([]frame(nil), v4...), v6...)
	for _, c := range captures(v4, v6, all) {
		if err := write(filepath.Join(*out, c.name), c.link, c.recs); err != nil {
			fail(err)
		}
		fmt.Fprintf(os.Stderr, "encap: wrote %s (%d frames)\n", c.name, len(c.recs))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "encap:", err)
	os.Exit(1)
}

type capture struct {
	name string
	link layers.LinkType
	recs []rec
}

// baseFrames reads the Ethernet frames of path whose EtherType is et and
// returns their IP datagrams (at most max, 0 = all).
func baseFrames(path string, et uint16, max int) ([]frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var src gopacket.PacketDataSource
	if filepath.Ext(path) == ".pcapng" {
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, err
		}
		src = r
	} else {
		r, err := pcapgo.NewReader(f)
		if err != nil {
			return nil, err
		}
		src = r
	}
	var out []frame
	for max == 0 || len(out) < max {
		data, ci, err := src.ReadPacketData()
		if err != nil {
			break
		}
		if len(data) < 14 || binary.BigEndian.Uint16(data[12:]) != et || ci.CaptureLength != ci.Length {
			continue
		}
		out = append(out, frame{ip: append([]byte(nil), data[14:]...), t: ci.Timestamp})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no frames of EtherType %#04x", path, et)
	}
	return out, nil
}

func write(path string, link layers.LinkType, recs []rec) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, link); err != nil {
		f.Close()
		return err
	}
	for _, r := range recs {
		ci := gopacket.CaptureInfo{Timestamp: r.t, CaptureLength: len(r.data), Length: r.wire}
		if err := w.WritePacket(ci, r.data); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// whole makes a record of a frame captured in full.
func whole(b []byte, t time.Time) rec { return rec{data: b, wire: len(b), t: t} }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

var (
	macA = []byte{0x02, 0, 0, 0, 0, 0x0a}
	macB = []byte{0x02, 0, 0, 0, 0, 0x0b}
	v4A  = []byte{192, 0, 2, 1}
	v4B  = []byte{198, 51, 100, 2}
	v6A  = []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	v6B  = []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}
)

// ether wraps payload in an Ethernet II header of type et.
func ether(et uint16, payload []byte) []byte { return cat(macB, macA, be16(et), payload) }

func etherTypeOf(ip []byte) uint16 {
	if ip[0]>>4 == 6 {
		return 0x86DD
	}
	return 0x0800
}

// ipv4 wraps payload in an IPv4 header (RFC 791) with protocol proto.
func ipv4(proto uint8, id uint16, payload []byte) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(h[4:], id)
	h[6] = 0x40 // DF
	h[8] = 64
	h[9] = proto
	copy(h[12:], v4A)
	copy(h[16:], v4B)
	binary.BigEndian.PutUint16(h[10:], ^sum(h, 0))
	return cat(h, payload)
}

// ipv6 wraps payload in an IPv6 header (RFC 8200) with next header nh.
func ipv6(nh uint8, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = nh
	h[7] = 64
	copy(h[8:], v6A)
	copy(h[24:], v6B)
	return cat(h, payload)
}

// sum is the one's-complement sum of b folded to 16 bits (RFC 1071).
func sum(b []byte, s uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xFFFF {
		s = s>>16 + s&0xFFFF
	}
	return uint16(s)
}

// udpIn wraps payload in UDP (RFC 768) inside an outer IPv4 or IPv6 header,
// with a correct checksum (mandatory over IPv6).
func udpIn(v6 bool, sport, dport uint16, payload []byte) []byte {
	u := cat(be16(sport), be16(dport), be16(uint16(8+len(payload))), be16(0), payload)
	var ps []byte
	if v6 {
		ps = cat(v6A, v6B, be32(uint32(len(u))), []byte{0, 0, 0, 17})
	} else {
		ps = cat(v4A, v4B, []byte{0, 17}, be16(uint16(len(u))))
	}
	c := ^sum(u, uint32(sum(ps, 0)))
	if c == 0 {
		c = 0xFFFF
	}
	binary.BigEndian.PutUint16(u[6:], c)
	if v6 {
		return ipv6(17, u)
	}
	return ipv4(17, 0x1000, u)
}

// outerIP wraps payload in IPv4 (even i) or IPv6 (odd i) with protocol proto.
func outerIP(i int, proto uint8, payload []byte) []byte {
	if i%2 == 1 {
		return ipv6(proto, payload)
	}
	return ipv4(proto, uint16(0x2000+i), payload)
}

func captures(v4, v6, all []frame) []capture {
	var cs []capture
	add := func(name string, link layers.LinkType, base []frame, wrap func(i int, ip []byte) []byte) {
		var rs []rec
		for i, f := range base {
			rs = append(rs, whole(wrap(i, f.ip), f.t))
		}
		cs = append(cs, capture{name, link, rs})
	}

	// IP in IP: 4in4 and 6in4 (outer IPv4, protocol 4 / 41), 4in6 and 6in6
	// (outer IPv6, next header 4 / 41), alternating frame by frame.
	add("gen-tun-ipip.pcap", layers.LinkTypeEthernet, all, func(i int, ip []byte) []byte {
		proto := uint8(4)
		if ip[0]>>4 == 6 {
			proto = 41
		}
		o := outerIP(i, proto, ip)
		return ether(etherTypeOf(o), o)
	})

	// GRE (RFC 2784, keys and sequence numbers RFC 2890): plain; with a
	// key; with checksum, key and sequence; carrying Ethernet (0x6558).
	add("gen-tun-gre.pcap", layers.LinkTypeEthernet, all, func(i int, ip []byte) []byte {
		var g []byte
		switch i % 4 {
		case 0:
			g = cat(be16(0), be16(etherTypeOf(ip)), ip)
		case 1:
			g = cat(be16(0x2000), be16(etherTypeOf(ip)), be32(0x00abcdef), ip)
		case 2:
			g = cat(be16(0xB000), be16(etherTypeOf(ip)), be16(0), be16(0), be32(7), be32(uint32(i)), ip)
			binary.BigEndian.PutUint16(g[4:], ^sum(g, 0))
		case 3:
			g = cat(be16(0x2000), be16(0x6558), be32(42), ether(etherTypeOf(ip), ip))
		}
		o := outerIP(i, 47, g)
		return ether(etherTypeOf(o), o)
	})

	// ERSPAN over GRE: type II (GRE 0x88BE with a sequence number, 8-byte
	// header) and type III (GRE 0x22EB, 12-byte header, every other frame
	// with the 8-byte platform-specific subheader), mirrored Ethernet inside.
	add("gen-tun-erspan.pcap", layers.LinkTypeEthernet, all, func(i int, ip []byte) []byte {
		inner := ether(etherTypeOf(ip), ip)
		var g []byte
		if i%2 == 0 {
			// Ver 1 | VLAN 0 ; COS 0, En 0, T 0, session 100 ; reserved | index 0
			e2 := cat(be16(0x1000), be16(100), be32(0))
			g = cat(be16(0x1000), be16(0x88BE), be32(uint32(i)), e2, inner)
		} else {
			// Ver 2 | VLAN 0 ; COS, BSO, T, session 200 ; timestamp ;
			// SGT | P FT(0 = Ethernet) HW ID D Gra O
			o := uint16(0)
			if i%4 == 1 {
				o = 1
			}
			e3 := cat(be16(0x2000), be16(200), be32(uint32(i)*1000), be16(0), be16(o))
			if o == 1 {
				e3 = cat(e3, be32(0x0c000000), be32(0)) // platform ID 3 subheader
			}
			g = cat(be16(0x1000), be16(0x22EB), be32(uint32(i)), e3, inner)
		}
		o := outerIP(i, 47, g)
		return ether(etherTypeOf(o), o)
	})

	// GTP-U (3GPP TS 29.281) on UDP 2152: G-PDU, every third frame with the
	// sequence-number flag and a PDU session container extension header.
	add("gen-tun-gtpu.pcap", layers.LinkTypeEthernet, all, func(i int, ip []byte) []byte {
		var g []byte
		teid := uint32(0x1000 + i%3)
		if i%3 == 2 {
			ext := []byte{1, 0x00, 0x05, 0x00} // length 1 (4 bytes): PDU type 0, QFI 5; next type 0
			opt := cat(be16(uint16(i)), []byte{0, 0x85})
			body := cat(opt, ext, ip)
			g = cat([]byte{0x36, 0xFF}, be16(uint16(len(body))), be32(teid), body)
		} else {
			g = cat([]byte{0x30, 0xFF}, be16(uint16(len(ip))), be32(teid), ip)
		}
		o := udpIn(i%2 == 1, 2152, 2152, g)
		return ether(etherTypeOf(o), o)
	})

	// VXLAN (RFC 7348) on UDP 4789: VNI 5001, Ethernet inside.
	add("gen-tun-vxlan.pcap", layers.LinkTypeEthernet, all, func(i int, ip []byte) []byte {
		v := cat([]byte{0x08, 0, 0, 0}, be32(5001<<8), ether(etherTypeOf(ip), ip))
		o := udpIn(i%2 == 1, uint16(49152+i%7), 4789, v)
		return ether(etherTypeOf(o), o)
	})

	// Geneve (RFC 8926) on UDP 6081: Ethernet (0x6558) or IP directly,
	// every other frame with an 8-byte option.
	add("gen-tun-geneve.pcap", layers.LinkTypeEthernet, all, func(i int, ip []byte) []byte {
		payload, pt := ether(etherTypeOf(ip), ip), uint16(0x6558)
		if i%3 == 1 {
			payload, pt = ip, etherTypeOf(ip)
		}
		var opts []byte
		if i%2 == 1 {
			opts = cat(be16(0x0102), []byte{0x03, 0x01}, be32(0xdeadbeef)) // class, type, length 1 word
		}
		gh := cat([]byte{byte(len(opts) / 4), 0}, be16(pt), be32(7777<<8), opts, payload)
		o := udpIn(i%2 == 1, uint16(50000+i%5), 6081, gh)
		return ether(etherTypeOf(o), o)
	})

	// CAPWAP data channel (RFC 5415) on UDP 5247: HLEN 2 (8 bytes), T = 0:
	// an IEEE 802.3 frame inside.
	add("gen-tun-capwap.pcap", layers.LinkTypeEthernet, all, func(i int, ip []byte) []byte {
		// preamble 0 | HLEN 2, RID 0, WBID 1, T 0, F/L/W/M/K 0
		hdr := cat(be32(0x00100200), be32(0))
		o := udpIn(false, uint16(40000+i%3), 5247, cat(hdr, ether(etherTypeOf(ip), ip)))
		return ether(0x0800, o)
	})

	// MPLS (RFC 3032) straight on Ethernet: one label, or two (0x8847),
	// or a multicast label (0x8848).
	add("gen-tun-mpls.pcap", layers.LinkTypeEthernet, all, func(i int, ip []byte) []byte {
		switch i % 3 {
		case 0:
			return ether(0x8847, cat(be32(16<<12|1<<8|64), ip))
		case 1:
			return ether(0x8847, cat(be32(17<<12|63), be32(18<<12|1<<8|63), ip))
		}
		return ether(0x8848, cat(be32(19<<12|1<<8|62), ip))
	})

	// Cisco FabricPath (EtherType 0x8903): outer DA, SA, type, FTag/TTL,
	// then the classic Ethernet frame.
	add("gen-tun-fabricpath.pcap", layers.LinkTypeEthernet, all, func(i int, ip []byte) []byte {
		oda := []byte{0x02, 0x00, 0x0a, 0x00, 0x00, 0x01}
		osa := []byte{0x02, 0x00, 0x0b, 0x00, 0x00, 0x02}
		// Wireshark's FabricPath dissector hands the inner frame to
		// Ethernet with a frame check sequence, as mirrored frames carry.
		in := ether(etherTypeOf(ip), ip)
		in = binary.LittleEndian.AppendUint32(in, crc32.ChecksumIEEE(in))
		return cat(oda, osa, be16(0x8903), be16(1<<6|32), in)
	})

	// Link types: PPP (9) with and without address/control; PPP in
	// HDLC-like framing (50); Cisco HDLC (104).
	pppProto := func(ip []byte) uint16 {
		if ip[0]>>4 == 6 {
			return 0x0057
		}
		return 0x0021
	}
	add("gen-link-ppp.pcap", layers.LinkTypePPP, all, func(i int, ip []byte) []byte {
		if i%2 == 1 {
			return cat(be16(pppProto(ip)), ip)
		}
		return cat([]byte{0xFF, 0x03}, be16(pppProto(ip)), ip)
	})
	add("gen-link-ppp-hdlc.pcap", layers.LinkType(50), all, func(i int, ip []byte) []byte {
		return cat([]byte{0xFF, 0x03}, be16(pppProto(ip)), ip)
	})
	add("gen-link-chdlc.pcap", layers.LinkType(104), all, func(i int, ip []byte) []byte {
		return cat([]byte{0x0F, 0x00}, be16(etherTypeOf(ip)), ip)
	})

	// Linux NFLOG (239, what tcpdump -i nflog:N writes): family, version,
	// resource ID, then TLVs whose length and type are in the writer's
	// (here little-endian) byte order: a prefix string, the hardware
	// protocol, and the packet (type 9).
	add("gen-link-nflog.pcap", layers.LinkType(239), all, func(i int, ip []byte) []byte {
		fam := byte(2)
		if ip[0]>>4 == 6 {
			fam = 10
		}
		tlv := func(typ uint16, v []byte) []byte {
			t := binary.LittleEndian.AppendUint16(nil, uint16(4+len(v)))
			t = binary.LittleEndian.AppendUint16(t, typ)
			t = append(t, v...)
			for len(t)%4 != 0 {
				t = append(t, 0)
			}
			return t
		}
		hw := cat(be16(etherTypeOf(ip)), []byte{0, 0}) // NFULA_PACKET_HDR: hw_protocol, hook, pad
		return cat([]byte{fam, 0}, be16(5), tlv(1, hw), tlv(10, []byte("tcpscope\x00")), tlv(9, ip))
	})

	cs = append(cs, cutAndBogus(v4)...)
	cs = append(cs, icmpErrors(v4, v6))
	return cs
}

// cutAndBogus makes the two captures of TCP headers Wireshark cannot dissect
// whole: cut by the snaplen inside the fixed 20 bytes, and with a data
// offset below 5.
func cutAndBogus(v4 []frame) []capture {
	var cut, bogus []rec
	for i, f := range v4 {
		fr := ether(0x0800, f.ip)
		tcpOff := 14 + int(f.ip[0]&0x0f)*4
		// The TCP bytes kept: 18 (up to the checksum), 16 (up to the
		// window), 12 (to the ack), 4 (the ports), 3 — in turn, every
		// other frame kept whole.
		keep := []int{-1, 18, -1, 16, -1, 19, -1, 12, -1, 4, -1, 3}[i%12]
		if keep >= 0 && tcpOff+keep < len(fr) {
			cut = append(cut, rec{data: fr[:tcpOff+keep], wire: len(fr), t: f.t})
		} else {
			cut = append(cut, whole(fr, f.t))
		}
		b := append([]byte(nil), fr...)
		// Handshake segments keep their header: tshark 4.0 skips its
		// window-scale check and initial-RTT on a SYN or handshake ACK it
		// stops dissecting, which docs/packet-json.md lists as a difference.
		hs := fr[tcpOff+13]&0x02 != 0 || i > 0 && v4[i-1].ip[int(v4[i-1].ip[0]&0x0f)*4+13]&0x12 == 0x12
		if !hs {
			switch i % 5 {
			case 1:
				b[tcpOff+12] = b[tcpOff+12]&0x0f | 2<<4 // 8-byte "header"
			case 3:
				b[tcpOff+12] = b[tcpOff+12]&0x0f | 4<<4 // 16-byte "header"
			case 4:
				b[tcpOff+12] = b[tcpOff+12] & 0x0f // 0-byte "header"
			}
		}
		bogus = append(bogus, whole(b, f.t))
	}
	return []capture{
		{"gen-tcp-header-cut.pcap", layers.LinkTypeEthernet, cut},
		{"gen-tcp-bogus-hdrlen.pcap", layers.LinkTypeEthernet, bogus},
	}
}

// icmpErrors makes a capture of ICMP and ICMPv6 errors quoting TCP
// segments, each right after the segment it quotes (as a router on the
// path would send it back): fragmentation needed (MTU 1400) and packet too
// big (MTU 1280) quoting the whole header, time exceeded quoting only the
// 8 bytes RFC 792 requires, a redirect, and port unreachables for a
// connection that is not in the capture.
func icmpErrors(v4, v6 []frame) capture {
	icmp4 := func(typ, code uint8, rest uint32, quoted []byte) []byte {
		m := cat([]byte{typ, code, 0, 0}, be32(rest), quoted)
		binary.BigEndian.PutUint16(m[2:], ^sum(m, 0))
		h := make([]byte, 20)
		h[0], h[8], h[9] = 0x45, 64, 1
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(m)))
		copy(h[12:], v4A) // the router
		copy(h[16:], quoted[12:16])
		binary.BigEndian.PutUint16(h[10:], ^sum(h, 0))
		return ether(0x0800, cat(h, m))
	}
	icmp6 := func(typ, code uint8, rest uint32, quoted []byte) []byte {
		m := cat([]byte{typ, code, 0, 0}, be32(rest), quoted)
		src, dst := v6A, quoted[8:24]
		ps := cat(src, dst, be32(uint32(len(m))), []byte{0, 0, 0, 58})
		binary.BigEndian.PutUint16(m[2:], ^sum(m, uint32(sum(ps, 0))))
		h := make([]byte, 40)
		h[0], h[6], h[7] = 0x60, 58, 64
		binary.BigEndian.PutUint16(h[4:], uint16(len(m)))
		copy(h[8:], src)
		copy(h[24:], dst)
		return ether(0x86DD, cat(h, m))
	}
	// quote returns the first n bytes of the datagram after the IP header
	// (all of it when n < 0), with the IP header.
	quote := func(ip []byte, n int) []byte {
		hl := 40
		if ip[0]>>4 == 4 {
			hl = int(ip[0]&0x0f) * 4
		}
		if n < 0 {
			// As much as fits in a minimal-MTU error, as Linux quotes:
			// 576 bytes for ICMP, 1280 for ICMPv6, headers included.
			n = 576 - 20 - 8 - hl
			if hl == 40 {
				n = 1280 - 40 - 8 - hl
			}
		}
		if hl+n > len(ip) {
			return append([]byte(nil), ip...)
		}
		return append([]byte(nil), ip[:hl+n]...)
	}
	// elsewhere changes the ports of a quoted segment: a connection that
	// never appears in the capture.
	elsewhere := func(q []byte, sport uint16) []byte {
		hl := 40
		if q[0]>>4 == 4 {
			hl = int(q[0]&0x0f) * 4
		}
		binary.BigEndian.PutUint16(q[hl:], sport)
		return q
	}
	var rs []rec
	n := 0
	for i, f := range append(append([]frame(nil), v4...), v6...) {
		rs = append(rs, whole(ether(etherTypeOf(f.ip), f.ip), f.t))
		t := f.t.Add(50 * time.Microsecond)
		v6 := f.ip[0]>>4 == 6
		if i%3 != 1 {
			continue
		}
		switch n++; {
		case !v6 && n%4 == 1:
			rs = append(rs, whole(icmp4(3, 4, 1400, quote(f.ip, -1)), t)) // frag needed, MTU 1400
		case !v6 && n%4 == 2:
			rs = append(rs, whole(icmp4(11, 0, 0, quote(f.ip, 8)), t)) // time exceeded, 8 bytes
		case !v6 && n%4 == 3:
			gw := binary.BigEndian.Uint32([]byte{192, 0, 2, 254})
			rs = append(rs, whole(icmp4(5, 1, gw, quote(f.ip, 28)), t)) // redirect for host
		case !v6:
			rs = append(rs, whole(icmp4(3, 3, 0, elsewhere(quote(f.ip, -1), uint16(40000+n))), t)) // port unreachable, unknown connection
		case n%3 == 0:
			rs = append(rs, whole(icmp6(2, 0, 1280, quote(f.ip, -1)), t)) // packet too big
		case n%3 == 1:
			rs = append(rs, whole(icmp6(3, 0, 0, quote(f.ip, 8)), t)) // time exceeded, 8 bytes
		default:
			rs = append(rs, whole(icmp6(1, 4, 0, elsewhere(quote(f.ip, -1), uint16(41000+n))), t)) // port unreachable
		}
	}
	return capture{"gen-icmp-errors.pcap", layers.LinkTypeEthernet, rs}
}
