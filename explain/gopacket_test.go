package explain

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/render"
)

// craft serializes the given layers with gopacket (an independent encoder)
// and returns them as an Ethernet frame, lengths and checksums filled in.
func craft(t testing.TB, ls ...gopacket.SerializableLayer) frame.Frame {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	d := buf.Bytes()
	return frame.Frame{Data: d, Meta: frame.Meta{Number: 1, CapLen: len(d), OrigLen: len(d), Link: frame.LinkEthernet}}
}

func tsOpt(val, ecr uint32) layers.TCPOption {
	d := make([]byte, 8)
	binary.BigEndian.PutUint32(d, val)
	binary.BigEndian.PutUint32(d[4:], ecr)
	return layers.TCPOption{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: d}
}

func sackOpt(edges ...uint32) layers.TCPOption {
	d := make([]byte, 4*len(edges))
	for i, e := range edges {
		binary.BigEndian.PutUint32(d[4*i:], e)
	}
	return layers.TCPOption{OptionType: layers.TCPOptionKindSACK, OptionLength: uint8(2 + len(d)), OptionData: d}
}

// dataTSSACK is an IPv4 data segment carrying timestamps and two SACK
// blocks: what a receiver sends after a loss, with the values chosen so
// that every byte differs and a byte-order mistake cannot go unseen.
func dataTSSACK(t testing.TB) frame.Frame {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, IHL: 5, TOS: 0x2a, Id: 0xbeef, Flags: layers.IPv4DontFragment, TTL: 57, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IP{192, 0, 2, 10}, DstIP: net.IP{198, 51, 100, 20}}
	tcp := &layers.TCP{SrcPort: 8080, DstPort: 51234, Seq: 0x01020304, Ack: 0xa1b2c3d4, ACK: true, PSH: true, Window: 0x1234, Urgent: 0,
		Options: []layers.TCPOption{
			{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
			{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
			tsOpt(0x11223344, 0x55667788),
			{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
			{OptionType: layers.TCPOptionKindNop, OptionLength: 1},
			sackOpt(0xa1b2d000, 0xa1b2e000, 0xa1b2f000, 0xa1b30000),
		}}
	tcp.SetNetworkLayerForChecksum(ip)
	return craft(t, eth, ip, tcp, gopacket.Payload("GET / HTTP/1.1\r\nHost: example\r\n\r\n"))
}

func fieldsByKey(e *Explanation) map[string][]Field {
	m := map[string][]Field{}
	for _, l := range e.Layers {
		for _, f := range l.Fields {
			m[f.Key] = append(m[f.Key], f)
		}
	}
	return m
}

// TestDecodeGopacketRoundTrip writes known values with gopacket and checks
// that each comes back, through decode and explain, with the right value,
// offset, raw bytes and ntohs/ntohl conversion.
func TestDecodeGopacketRoundTrip(t *testing.T) {
	fr := dataTSSACK(t)
	var p decode.Packet
	if err := decode.Decode(fr, &p); err != nil {
		t.Fatal(err)
	}
	e := Build(Meta{Frame: fr, Stream: -1}, &p, binary.LittleEndian)
	f := fieldsByKey(e)
	check := func(key string, i int, want uint64, off int) {
		t.Helper()
		fs := f[key]
		if i >= len(fs) {
			t.Errorf("%s[%d]: missing", key, i)
			return
		}
		x := fs[i]
		if x.Value == nil || *x.Value != want || x.Offset != off {
			got := "nil"
			if x.Value != nil {
				got = fmt.Sprint(*x.Value)
			}
			t.Errorf("%s[%d] = %s at offset %d, want %d at %d", key, i, got, x.Offset, want, off)
		}
	}
	// Ethernet 0–13, IPv4 14–33, TCP from 34.
	check("eth.type", 0, 0x0800, 12)
	check("ipv4.version", 0, 4, 14)
	check("ipv4.ihl", 0, 5, 14)
	check("ipv4.tos", 0, 0x2a, 15)
	tcpLen := 20 + 2 + 10 + 2 + 18
	payload := len("GET / HTTP/1.1\r\nHost: example\r\n\r\n")
	check("ipv4.len", 0, uint64(20+tcpLen+payload), 16)
	check("ipv4.id", 0, 0xbeef, 18)
	check("ipv4.flags", 0, 2, 20)
	check("ipv4.frag_offset", 0, 0, 20)
	check("ipv4.ttl", 0, 57, 22)
	check("ipv4.proto", 0, 6, 23)
	check("tcp.srcport", 0, 8080, 34)
	check("tcp.dstport", 0, 51234, 36)
	check("tcp.seq", 0, 0x01020304, 38)
	check("tcp.ack", 0, 0xa1b2c3d4, 42)
	check("tcp.data_offset", 0, uint64(tcpLen/4), 46)
	check("tcp.flags", 0, 0x18, 47)
	check("tcp.flags.psh", 0, 1, 47)
	check("tcp.flags.syn", 0, 0, 47)
	check("tcp.window", 0, 0x1234, 48)
	check("tcp.urgent", 0, 0, 52)
	check("tcp.opt.ts.tsval", 0, 0x11223344, 58)
	check("tcp.opt.ts.tsecr", 0, 0x55667788, 62)
	check("tcp.opt.sack.left", 0, 0xa1b2d000, 70)
	check("tcp.opt.sack.right", 0, 0xa1b2e000, 74)
	check("tcp.opt.sack.left", 1, 0xa1b2f000, 78)
	check("tcp.opt.sack.right", 1, 0xa1b30000, 82)

	// The conversion is spelled out, and the unconverted value is the
	// byte-swapped one a little-endian program would read.
	sp := f["tcp.srcport"][0]
	if sp.Raw != "1f 90" || sp.Conversion != "ntohs(1f 90) = 8080" || sp.Unconverted == nil || *sp.Unconverted != 36895 {
		t.Errorf("source port: raw %q, conversion %q, unconverted %v", sp.Raw, sp.Conversion, sp.Unconverted)
	}
	seq := f["tcp.seq"][0]
	if seq.Conversion != "ntohl(01 02 03 04) = 16909060" || *seq.Unconverted != 0x04030201 {
		t.Errorf("seq: conversion %q, unconverted %d", seq.Conversion, *seq.Unconverted)
	}
	if ck := f["tcp.checksum"][0]; !strings.HasPrefix(ck.Meaning, "ok") {
		t.Errorf("gopacket computed the TCP checksum, we say %q", ck.Meaning)
	}
	if ck := f["ipv4.checksum"][0]; !strings.HasPrefix(ck.Meaning, "ok") {
		t.Errorf("gopacket computed the IPv4 checksum, we say %q", ck.Meaning)
	}
	if e.Payload == nil || e.Payload.Length != payload || e.Payload.Offset != 34+tcpLen {
		t.Errorf("payload %+v", e.Payload)
	}

	// Break the TCP checksum: explain must say bad and name the right value.
	good := f["tcp.checksum"][0]
	fr.Data[50] ^= 0xff
	decode.Decode(fr, &p)
	bad := fieldsByKey(Build(Meta{Frame: fr, Stream: -1}, &p, binary.LittleEndian))["tcp.checksum"][0]
	if want := fmt.Sprintf("bad: should be 0x%04x", *good.Value); !strings.HasPrefix(bad.Meaning, want) {
		t.Errorf("corrupted checksum: %q, want prefix %q", bad.Meaning, want)
	}

	// A big-endian host reads the same bytes the same way as ntohs.
	be := fieldsByKey(Build(Meta{Frame: fr, Stream: -1}, &p, binary.BigEndian))
	if u := be["tcp.srcport"][0].Unconverted; u == nil || *u != 8080 {
		t.Errorf("big-endian host: unconverted source port %v, want 8080", u)
	}
}

// TestDecodeGopacketIPv6 checks the IPv6 fields that share a 32-bit word
// (version, traffic class, flow label): the classic place to get shifts wrong.
func TestDecodeGopacketIPv6(t *testing.T) {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv6}
	ip := &layers.IPv6{Version: 6, TrafficClass: 0xb8, FlowLabel: 0xabcde, NextHeader: layers.IPProtocolTCP, HopLimit: 63,
		SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
	tcp := &layers.TCP{SrcPort: 443, DstPort: 40000, Seq: 7, SYN: true, Window: 64800, Options: []layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0x8c}},
		{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
		{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
	}}
	tcp.SetNetworkLayerForChecksum(ip)
	fr := craft(t, eth, ip, tcp)
	var p decode.Packet
	if err := decode.Decode(fr, &p); err != nil {
		t.Fatal(err)
	}
	f := fieldsByKey(Build(Meta{Frame: fr, Stream: -1}, &p, binary.LittleEndian))
	for key, want := range map[string]uint64{"ipv6.version": 6, "ipv6.tclass": 0xb8, "ipv6.flow": 0xabcde, "ipv6.plen": 32, // 20 + 9 option bytes, padded to 12

		"ipv6.nxt": 6, "ipv6.hlim": 63, "tcp.srcport": 443, "tcp.window": 64800, "tcp.opt.mss": 1420, "tcp.opt.wscale": 7, "tcp.flags.syn": 1} {
		if fs := f[key]; len(fs) == 0 || fs[0].Value == nil || *fs[0].Value != want {
			t.Errorf("%s: %+v, want %d", key, fs, want)
		}
	}
	if len(f["tcp.opt.sack_perm"]) != 1 {
		t.Error("SACK permitted not shown")
	}
	if w := f["tcp.opt.wscale"][0].Meaning; !strings.Contains(w, "× 2^7 = × 128") {
		t.Errorf("window scale meaning %q", w)
	}
	if s := f["ipv6.src"][0]; s.Text != "2001:db8::1" || s.Offset != 22 {
		t.Errorf("source %+v", s)
	}
}

// TestDecodeGoldenDataTSSACK is the golden view of the crafted data
// segment with timestamps and SACK (no shipped capture has both).
func TestDecodeGoldenDataTSSACK(t *testing.T) {
	fr := dataTSSACK(t)
	var p decode.Packet
	if err := decode.Decode(fr, &p); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteText(&b, Build(Meta{Frame: fr, Stream: -1}, &p, binary.LittleEndian), TextOptions{Theme: render.NewTheme(false)}); err != nil {
		t.Fatal(err)
	}
	golden(t, "data-ts-sack.txt", b.Bytes())
}
