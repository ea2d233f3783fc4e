package decode_test

import (
	"encoding/hex"
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/replay"
)

// mustHex decodes hex, ignoring whitespace, for readable test vectors.
func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// synIPv4 is a SYN from 127.0.0.1:55920 to 127.0.0.1:80 (tcpdump-print-flags.pcap frame 1):
//
//	IP 127.0.0.1.55920 > 127.0.0.1.80: Flags [S], seq 928549246, win 32767,
//	options [mss 16396,sackOK,TS val 1306300950 ecr 0,nop,wscale 2], length 0
const synIPv4 = `
4500 003c 1b68 4000 4006 2152 7f00 0001 7f00 0001
da70 0050 3758 897e 0000 0000 a002 7fff 1421 0000
0204 400c 0402 080a 4ddc 9216 0000 0000 0103 0302`

func TestDecodeSYN(t *testing.T) {
	raw := mustHex(synIPv4)
	for _, tc := range []struct {
		name string
		link frame.LinkType
		head string
	}{
		{"raw", frame.LinkRaw, ""},
		{"ethernet", frame.LinkEthernet, "000000000000 000000000000 0800"},
		{"vlan", frame.LinkEthernet, "000000000000 000000000000 8100 0064 0800"},
		{"qinq", frame.LinkEthernet, "000000000000 000000000000 88a8 0001 8100 0064 0800"},
		{"null-le", frame.LinkNull, "02000000"}, // written by a little-endian host
		{"null-be", frame.LinkNull, "00000002"}, // written by a big-endian host
		{"loop", frame.LinkLoop, "00000002"},    // OpenBSD: always network order
		{"sll", frame.LinkSLL, "0000 0304 0006 000000000000 0000 0800"},
		{"sll2", frame.LinkSLL2, "0800 0000 00000001 0304 00 06 000000000000 0000"},
		{"pppoe", frame.LinkEthernet, "000000000000 000000000000 8864 1100 0001 003e 0021"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := append(mustHex(tc.head), raw...)
			var p decode.Packet
			err := decode.Decode(frame.Frame{Data: data, Meta: frame.Meta{CapLen: len(data), OrigLen: len(data), Link: tc.link}}, &p)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if p.TCP == nil {
				t.Fatal("no TCP decoded")
			}
			if got, want := p.SrcAddrPort(), netip.MustParseAddrPort("127.0.0.1:55920"); got != want {
				t.Errorf("src = %v, want %v", got, want)
			}
			if got := p.TCP.DstPort(); got != 80 {
				t.Errorf("dport = %d, want 80", got)
			}
			if got := p.TCP.Seq(); got != 928549246 {
				t.Errorf("seq = %d, want 928549246", got)
			}
			if p.TCP.Flags() != decode.FlagSYN || p.TCP.Window() != 32767 || p.TCP.HeaderLen() != 40 {
				t.Errorf("flags %#x win %d hlen %d", p.TCP.Flags(), p.TCP.Window(), p.TCP.HeaderLen())
			}
			o := p.Options
			if !o.HasMSS || o.MSS != 16396 || !o.SACKPerm || !o.HasTS || o.TSVal != 1306300950 || !o.HasWScale || o.WScale != 2 || o.Malformed != "" {
				t.Errorf("options = %+v", o)
			}
			if p.IPChecksum != decode.ChecksumOK || p.TCPChecksum != decode.ChecksumOK {
				t.Errorf("checksums ip %v tcp %v, want ok ok", p.IPChecksum, p.TCPChecksum)
			}
		})
	}
}

func TestMalformedAndTruncated(t *testing.T) {
	raw := mustHex(synIPv4)
	for _, tc := range []struct {
		name    string
		data    []byte
		want    error
		hasTCP  bool
		optsBad bool
	}{
		{"ip cut", raw[:12], decode.ErrTruncated, false, false},
		{"tcp cut in ports", raw[:22], decode.ErrTruncated, false, false},
		{"tcp cut in options", raw[:50], decode.ErrTruncated, true, false},
		{"bad IHL", append([]byte{0x43}, raw[1:]...), decode.ErrMalformed, false, false},
		{"bad data offset", func() []byte { b := append([]byte(nil), raw...); b[32] = 0x40; return b }(), decode.ErrMalformed, false, false},
		{"bad option length", func() []byte { b := append([]byte(nil), raw...); b[41] = 7; return b }(), nil, true, true},
		{"option length 0", func() []byte { b := append([]byte(nil), raw...); b[41] = 0; return b }(), nil, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p decode.Packet
			err := decode.Decode(frame.Frame{Data: tc.data, Meta: frame.Meta{CapLen: len(tc.data), OrigLen: len(raw), Link: frame.LinkRaw}}, &p)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Decode(%s) error = %v, want %v", tc.name, err, tc.want)
			}
			if (p.TCP != nil) != tc.hasTCP {
				t.Errorf("TCP decoded = %v, want %v", p.TCP != nil, tc.hasTCP)
			}
			if (p.Options.Malformed != "") != tc.optsBad {
				t.Errorf("Malformed = %q", p.Options.Malformed)
			}
			if err != nil && !strings.Contains(err.Error(), "@") {
				t.Errorf("error %q does not name the offset", err)
			}
		})
	}
}

// TestNtoh checks the conversion on bytes whose order matters.
func TestNtoh(t *testing.T) {
	if got := decode.Ntohs([]byte{0x1f, 0x90}); got != 8080 {
		t.Errorf("Ntohs(1f 90) = %d, want 8080", got)
	}
	if got := decode.Ntohl([]byte{0x7f, 0, 0, 1}); got != 0x7f000001 {
		t.Errorf("Ntohl(7f 00 00 01) = %#x, want 0x7f000001", got)
	}
}

// frames loads the frames of a shipped capture (copied: sources reuse buffers).
func frames(t testing.TB, name string) []frame.Frame {
	f, err := replay.Open(filepath.Join("../pcaps", name), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []frame.Frame
	for {
		fr, err := f.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			return out
		}
		fr.Data = append([]byte(nil), fr.Data...)
		out = append(out, fr)
	}
}

// TestDecodeAllocatesNothing: the per-frame path must not allocate
// (tailscale's rule for packet parsers).
func TestDecodeAllocatesNothing(t *testing.T) {
	var all []frame.Frame
	for _, n := range []string{"tcpdump-print-flags.pcap", "tcpdump-ssh.pcap", "zeek-http-1000-requests-one-dropped-response.pcap", "zeek-vlan-qinqinq.pcap", "zeek-tls-openjdk-25.0.2-zeek.org.pcap",
		"gen-tun-gre.pcap", "gen-tun-vxlan.pcap", "gen-tun-gtpu.pcap", "gen-tun-mpls.pcap", "gen-tun-fabricpath.pcap", "gen-link-nflog.pcap", "gen-link-ppp.pcap",
		"gen-icmp-errors.pcap", "gen-tcp-header-cut.pcap", "gen-tcp-bogus-hdrlen.pcap"} {
		all = append(all, frames(t, n)...)
	}
	var p decode.Packet
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		decode.Decode(all[i%len(all)], &p)
		i++
	})
	if allocs != 0 {
		t.Errorf("Decode allocates %.2f times per frame, want 0", allocs)
	}
}

// TestAgainstGopacket decodes every frame of several captures with
// gopacket's layers too and compares the TCP fields (a second opinion
// beside tshark).
func TestAgainstGopacket(t *testing.T) {
	n := 0
	for _, name := range []string{"tcpdump-print-flags.pcap", "tcpdump-ssh.pcap", "zeek-http-1000-requests-one-dropped-response.pcap", "zeek-tcp-option-sack.pcap", "pcapplusplus-one_tcp_stream_max_seq.pcap"} {
		for _, fr := range frames(t, name) {
			var p decode.Packet
			if err := decode.Decode(fr, &p); err != nil || p.TCP == nil {
				continue
			}
			gp := gopacket.NewPacket(fr.Data, layers.LinkType(fr.Meta.Link), gopacket.Default)
			tl, ok := gp.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if !ok {
				t.Errorf("%s frame %d: gopacket finds no TCP", name, fr.Meta.Number)
				continue
			}
			n++
			if uint16(tl.SrcPort) != p.TCP.SrcPort() || uint16(tl.DstPort) != p.TCP.DstPort() || tl.Seq != p.TCP.Seq() ||
				tl.Ack != p.TCP.Ack() || tl.Window != p.TCP.Window() || int(tl.DataOffset)*4 != p.TCP.HeaderLen() ||
				tl.Checksum != p.TCP.Checksum() || len(tl.Payload) != len(p.Payload) {
				t.Errorf("%s frame %d: gopacket (sport %d seq %d ack %d win %d) disagrees with ours", name, fr.Meta.Number, tl.SrcPort, tl.Seq, tl.Ack, tl.Window)
			}
			if tl.SYN != p.TCP.Has(decode.FlagSYN) || tl.ACK != p.TCP.Has(decode.FlagACK) || tl.FIN != p.TCP.Has(decode.FlagFIN) || tl.RST != p.TCP.Has(decode.FlagRST) || tl.PSH != p.TCP.Has(decode.FlagPSH) {
				t.Errorf("%s frame %d: flags differ from gopacket", name, fr.Meta.Number)
			}
		}
	}
	if n < 1000 {
		t.Errorf("only %d frames compared", n)
	}
}

// TestSerializedByGopacket builds headers with gopacket from known values
// and reads them back through decode.
func TestSerializedByGopacket(t *testing.T) {
	ip := &layers.IPv6{Version: 6, HopLimit: 61, NextHeader: layers.IPProtocolTCP, TrafficClass: 0x20, FlowLabel: 0x12345,
		SrcIP: netip.MustParseAddr("2001:db8::1").AsSlice(), DstIP: netip.MustParseAddr("2001:db8::2").AsSlice()}
	tcp := &layers.TCP{SrcPort: 8080, DstPort: 443, Seq: 0xdeadbeef, Ack: 0x01020304, ACK: true, PSH: true, Window: 501, Urgent: 0,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindNop, OptionLength: 1}, {OptionType: layers.TCPOptionKindNop, OptionLength: 1},
			{OptionType: layers.TCPOptionKindSACK, OptionLength: 10, OptionData: mustHex("00000064 000000c8")}}}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, tcp, gopacket.Payload("hello")); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	var p decode.Packet
	if err := decode.Decode(frame.Frame{Data: data, Meta: frame.Meta{CapLen: len(data), OrigLen: len(data), Link: frame.LinkRaw, Time: time.Unix(0, 0)}}, &p); err != nil {
		t.Fatal(err)
	}
	if p.IPv6.HopLimit() != 61 || p.IPv6.TrafficClass() != 0x20 || p.IPv6.FlowLabel() != 0x12345 || p.Src.String() != "2001:db8::1" {
		t.Errorf("IPv6 fields: hlim %d tc %#x fl %#x src %v", p.IPv6.HopLimit(), p.IPv6.TrafficClass(), p.IPv6.FlowLabel(), p.Src)
	}
	if p.TCP.SrcPort() != 8080 || p.TCP.Seq() != 0xdeadbeef || p.TCP.Ack() != 0x01020304 || p.TCP.Window() != 501 || p.TCP.Flags() != decode.FlagACK|decode.FlagPSH {
		t.Errorf("TCP fields differ")
	}
	if p.Options.NSACK != 1 || p.Options.SACK[0] != (decode.SACKBlock{Left: 100, Right: 200}) {
		t.Errorf("SACK = %+v", p.Options)
	}
	if string(p.Payload) != "hello" || p.TCPChecksum != decode.ChecksumOK {
		t.Errorf("payload %q checksum %v", p.Payload, p.TCPChecksum)
	}
}

// FuzzDecode: any bytes with any link type: no panic, and a decoded TCP
// header respects its invariants.
func FuzzDecode(f *testing.F) {
	f.Add(uint16(frame.LinkRaw), mustHex(synIPv4))
	f.Add(uint16(frame.LinkEthernet), append(mustHex("000000000000 000000000000 8100 0064 0800"), mustHex(synIPv4)...))
	f.Add(uint16(frame.LinkNull), append(mustHex("1e000000"), mustHex("6000000000140640 20010db8000000000000000000000001 20010db8000000000000000000000002")...))
	f.Fuzz(func(t *testing.T, link uint16, data []byte) {
		var p decode.Packet
		decode.Decode(frame.Frame{Data: data, Meta: frame.Meta{CapLen: len(data), OrigLen: len(data), Link: frame.LinkType(link)}}, &p)
		if p.TCP != nil {
			if len(p.TCP) < 20 || p.TCP.HeaderLen() < 20 {
				t.Fatalf("TCP view of %d bytes, header %d", len(p.TCP), p.TCP.HeaderLen())
			}
			if len(p.Payload) > p.PayloadLen {
				t.Fatalf("payload %d > PayloadLen %d", len(p.Payload), p.PayloadLen)
			}
			decode.NewOptionIter(p.TCP)
		}
	})
}

// FuzzParseTCP exercises the TCP view and option parser alone.
func FuzzParseTCP(f *testing.F) {
	f.Add(mustHex(synIPv4)[20:])
	f.Add(mustHex("0000 0000 00000000 00000000 f000 0000 0000 0000 05 0a 00000001 00000002 1e 01 01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tc, err := decode.ParseTCP(b)
		if tc == nil {
			return
		}
		if err == nil && len(tc) < tc.HeaderLen() {
			t.Fatalf("ParseTCP accepted %d bytes for a %d-byte header", len(tc), tc.HeaderLen())
		}
		var o decode.Options
		decode.ParseOptions(tc, &o)
		if o.NSACK > decode.MaxSACKBlocks {
			t.Fatal("too many SACK blocks")
		}
	})
}

// FuzzParseIPv4 and FuzzParseIPv6 check the IP views alone.
func FuzzParseIPv4(f *testing.F) {
	f.Add(mustHex(synIPv4))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decode.ParseIPv4(b)
		if err == nil {
			_ = h.Payload()
			if h.HeaderLen() > len(b) {
				t.Fatal("header longer than input")
			}
			h.PayloadLen(len(b))
			h.ChecksumOK()
		}
	})
}

func FuzzParseIPv6(f *testing.F) {
	f.Add(mustHex("6000000000140640 20010db8000000000000000000000001 20010db8000000000000000000000002"))
	f.Add(mustHex("6000000000100040 20010db8000000000000000000000001 20010db8000000000000000000000002 2c00c20400000000 06000001 12345678"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decode.ParseIPv6(b)
		if err == nil {
			var e decode.IPv6Ext
			if h.WalkExt(&e) == nil && e.Offset > len(b) && !e.Frag {
				t.Fatalf("upper layer offset %d beyond %d bytes", e.Offset, len(b))
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"tcpdump-print-flags.pcap", "zeek-http-1000-requests-one-dropped-response.pcap"} {
		fs := frames(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var p decode.Packet
			n := 0
			for b.Loop() {
				decode.Decode(fs[n%len(fs)], &p)
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}
