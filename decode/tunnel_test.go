package decode_test

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
)

// TestTunnelsReachInnerTCP: every frame of the generated tunnel and
// link-type captures (pcaps/gen/encap) decodes to the inner loopback TCP
// segment, with the encapsulations it passed through in Outer.
func TestTunnelsReachInnerTCP(t *testing.T) {
	cases := []struct {
		file  string
		encap []decode.Encap // the encapsulations seen across the capture
	}{
		{"gen-tun-ipip.pcap", []decode.Encap{decode.Encap4in4, decode.Encap4in6, decode.Encap6in4, decode.Encap6in6}},
		{"gen-tun-gre.pcap", []decode.Encap{decode.EncapGRE}},
		{"gen-tun-erspan.pcap", []decode.Encap{decode.EncapERSPAN2, decode.EncapERSPAN3}},
		{"gen-tun-gtpu.pcap", []decode.Encap{decode.EncapGTPU}},
		{"gen-tun-vxlan.pcap", []decode.Encap{decode.EncapVXLAN}},
		{"gen-tun-geneve.pcap", []decode.Encap{decode.EncapGeneve}},
		{"gen-tun-capwap.pcap", []decode.Encap{decode.EncapCAPWAP}},
		{"gen-tun-mpls.pcap", []decode.Encap{decode.EncapMPLS}},
		{"gen-tun-fabricpath.pcap", []decode.Encap{decode.EncapFabricPath}},
		{"gen-link-ppp.pcap", nil},
		{"gen-link-ppp-hdlc.pcap", nil},
		{"gen-link-chdlc.pcap", nil},
		{"gen-link-nflog.pcap", nil},
	}
	lo4, lo6 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")
	for _, c := range cases {
		seen := map[decode.Encap]bool{}
		fs := frames(t, c.file)
		for _, f := range fs {
			var p decode.Packet
			if err := decode.Decode(f, &p); err != nil || p.TCP == nil {
				t.Fatalf("%s frame %d: no TCP (err %v, skipped %q)", c.file, f.Meta.Number, err, p.Skipped)
			}
			if p.Src != lo4 && p.Src != lo6 {
				t.Errorf("%s frame %d: inner source %v, want loopback", c.file, f.Meta.Number, p.Src)
			}
			if (c.encap == nil) != (p.NOuter == 0) {
				t.Errorf("%s frame %d: %d outer layers", c.file, f.Meta.Number, p.NOuter)
			}
			for i := 0; i < p.NOuter; i++ {
				seen[p.Outer[i].Encap] = true
			}
		}
		for _, e := range c.encap {
			if !seen[e] {
				t.Errorf("%s: no frame carried in %v", c.file, e)
			}
		}
	}
}

// nestIPv4 wraps an IP datagram in n IPv4-in-IPv4 headers.
func nestIPv4(ip []byte, n int) []byte {
	for i := 0; i < n; i++ {
		h := make([]byte, 20, 20+len(ip))
		h[0], h[8], h[9] = 0x45, 64, 4
		binary.BigEndian.PutUint16(h[2:], uint16(20+len(ip)))
		copy(h[12:], []byte{192, 0, 2, 1})
		copy(h[16:], []byte{192, 0, 2, 2})
		ip = append(h, ip...)
	}
	return ip
}

// TestTunnelDepthBound: decode follows at most MaxTunnels encapsulations;
// a deeper frame is left undecoded and says why.
func TestTunnelDepthBound(t *testing.T) {
	syn := mustHex(synIPv4)
	for _, n := range []int{1, decode.MaxTunnels, decode.MaxTunnels + 1, 300} {
		b := nestIPv4(syn, n)
		var p decode.Packet
		err := decode.Decode(frame.Frame{Data: b, Meta: frame.Meta{Link: frame.LinkRaw, CapLen: len(b), OrigLen: len(b)}}, &p)
		if n <= decode.MaxTunnels {
			if err != nil || p.TCP == nil || p.NOuter != n || p.Skipped != decode.SkipNone {
				t.Errorf("%d levels: TCP %v, %d outer, skipped %q, err %v", n, p.TCP != nil, p.NOuter, p.Skipped, err)
			}
			continue
		}
		if p.TCP != nil || p.Skipped != decode.SkipTooDeep {
			t.Errorf("%d levels: TCP decoded %v, skipped %q; want SkipTooDeep", n, p.TCP != nil, p.Skipped)
		}
	}
}

// TestESPSkipped: an IPsec ESP payload is encrypted; the frame says so.
func TestESPSkipped(t *testing.T) {
	b := nestIPv4(make([]byte, 40), 1)
	b[9] = decode.ProtoESP
	var p decode.Packet
	decode.Decode(frame.Frame{Data: b, Meta: frame.Meta{Link: frame.LinkRaw, CapLen: len(b), OrigLen: len(b)}}, &p)
	if p.Skipped != decode.SkipEncrypted {
		t.Errorf("skipped %q, want %q", p.Skipped, decode.SkipEncrypted)
	}
}

// FuzzDecodeTunnels starts from real frames of every encapsulation and
// link type: no panic, the nesting bound holds, a TCP view keeps its
// invariants.
func FuzzDecodeTunnels(f *testing.F) {
	for _, n := range []string{"gen-tun-ipip.pcap", "gen-tun-gre.pcap", "gen-tun-erspan.pcap", "gen-tun-gtpu.pcap", "gen-tun-vxlan.pcap",
		"gen-tun-geneve.pcap", "gen-tun-capwap.pcap", "gen-tun-mpls.pcap", "gen-tun-fabricpath.pcap", "gen-link-ppp.pcap",
		"gen-link-ppp-hdlc.pcap", "gen-link-chdlc.pcap", "gen-link-nflog.pcap", "gen-icmp-errors.pcap",
		"gen-tcp-header-cut.pcap", "gen-tcp-bogus-hdrlen.pcap"} {
		fs := frames(f, n)
		for _, fr := range fs[:8] {
			f.Add(uint16(fr.Meta.Link), fr.Data)
		}
	}
	f.Fuzz(func(t *testing.T, link uint16, data []byte) {
		var p decode.Packet
		decode.Decode(frame.Frame{Data: data, Meta: frame.Meta{CapLen: len(data), OrigLen: len(data), Link: frame.LinkType(link)}}, &p)
		if p.NOuter > decode.MaxTunnels {
			t.Fatalf("%d outer layers", p.NOuter)
		}
		for i := 0; i < p.NOuter; i++ {
			if o := p.Outer[i]; o.Offset < 0 || int(o.Offset+o.Len) > len(data) {
				t.Fatalf("outer %d at %d+%d outside %d bytes", i, o.Offset, o.Len, len(data))
			}
		}
		if p.TCP != nil && (len(p.TCP) < 20 || len(p.Payload) > p.PayloadLen) {
			t.Fatalf("TCP view of %d bytes, payload %d > %d", len(p.TCP), len(p.Payload), p.PayloadLen)
		}
		if h := p.TCPHead(); h != nil {
			_ = h.Window()
		}
		if p.HasICMP {
			if len(p.ICMP.TCP) < 4 || p.ICMP.TCPOffset+len(p.ICMP.TCP) > len(data) {
				t.Fatalf("quoted TCP of %d bytes at %d in %d", len(p.ICMP.TCP), p.ICMP.TCPOffset, len(data))
			}
			if h := p.ICMP.Head(); h != nil && len(h) < h.HeaderLen() {
				t.Fatalf("whole quoted header of %d bytes, header length %d", len(h), h.HeaderLen())
			}
			_ = p.ICMP.Text()
		}
	})
}

// TestPacketReusesOutOfLineParts: a Packet reused across frames keeps
// one storage for its tunnels and its ICMP error (no allocation per
// frame), and CopyTo gives a copy storage of its own, so decoding the next
// frame into the original leaves the copy as it was.
func TestPacketReusesOutOfLineParts(t *testing.T) {
	var fs []frame.Frame
	for _, name := range []string{"gen-tun-ipip.pcap", "gen-tun-vxlan.pcap", "gen-tun-mpls.pcap", "gen-icmp-errors.pcap"} {
		fs = append(fs, frames(t, name)...)
	}
	var p, q decode.Packet
	var copies []decode.Packet
	tunnels, icmps := 0, 0
	for _, f := range fs {
		if err := decode.Decode(f, &p); err != nil && p.NOuter == 0 && !p.HasICMP {
			continue
		}
		var want decode.Packet
		_ = decode.Decode(f, &want) // a Packet of its own: what the copy must keep
		if p.NOuter > 0 {
			tunnels++
		}
		if p.HasICMP {
			icmps++
		}
		var c decode.Packet
		p.CopyTo(&c)
		if p.NOuter > 0 && c.Outer == p.Outer || p.HasICMP && c.ICMP == p.ICMP {
			t.Fatalf("frame %d: the copy shares the original's storage", f.Meta.Number)
		}
		p.CopyTo(&q) // q reuses what it has
		if q.NOuter > 0 && q.Outer == p.Outer || q.HasICMP && q.ICMP == p.ICMP {
			t.Fatalf("frame %d: the reused copy shares the original's storage", f.Meta.Number)
		}
		copies = append(copies, c, want)
	}
	if tunnels < 10 || icmps < 3 {
		t.Fatalf("only %d tunnelled frames and %d ICMP errors", tunnels, icmps)
	}
	// Every copy still says what its own frame held, after the original
	// Packet went on to decode all the others.
	for i := 0; i < len(copies); i += 2 {
		c, w := &copies[i], &copies[i+1]
		if c.NOuter != w.NOuter || c.HasICMP != w.HasICMP {
			t.Fatalf("copy %d: %d outer, ICMP %v; want %d, %v", i/2, c.NOuter, c.HasICMP, w.NOuter, w.HasICMP)
		}
		for k := 0; k < c.NOuter; k++ {
			if c.Outer[k].Encap != w.Outer[k].Encap || c.Outer[k].Offset != w.Outer[k].Offset || c.Outer[k].Len != w.Outer[k].Len {
				t.Errorf("copy %d: outer %d is %+v, want %+v", i/2, k, c.Outer[k], w.Outer[k])
			}
		}
		if c.HasICMP && (c.ICMP.Type != w.ICMP.Type || c.ICMP.Code != w.ICMP.Code || string(c.ICMP.TCP) != string(w.ICMP.TCP)) {
			t.Errorf("copy %d: ICMP %+v, want %+v", i/2, *c.ICMP, *w.ICMP)
		}
	}
	// Reused, a Packet allocates nothing per frame once it has both parts.
	allocs := testing.AllocsPerRun(20, func() {
		for _, f := range fs {
			_ = decode.Decode(f, &p)
		}
	})
	if allocs != 0 {
		t.Errorf("decoding into a reused Packet: %v allocations per pass", allocs)
	}
}
