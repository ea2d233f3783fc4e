package pipeline_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/replay"
)

// TestWithPayloadSameAsFill: for every frame of every shipped capture,
// read by a pipeline set up as follow's (heads only, payloads later), the
// payload WithPayload lends is the one Fill copies into the item; where the
// payload reaches past the copied head of a mapped file it is lent from the
// file (the item is left unfilled), and the captures must have such frames.
func TestWithPayloadSameAsFill(t *testing.T) {
	files, _ := filepath.Glob("../pcaps/*.pcap*")
	lent, frames := 0, 0
	for _, path := range files {
		if filepath.Ext(path) == ".xz" || filepath.Ext(path) == ".zst" {
			continue
		}
		for _, parallel := range []bool{false, true} {
			open := func() (*pipeline.Pipeline, func()) {
				f, err := replay.Open(path, nil)
				if err != nil {
					return nil, nil
				}
				pl := pipeline.NewWith(f, analysis.New(analysis.Options{}), pipeline.Options{
					Parallel: parallel, AnalysisStage: parallel, DecodeLate: true,
					HeadersOnly: true, LazyPayload: true,
					Decode: decode.DecodeOptions{SkipChecksums: true},
				})
				return pl, func() { pl.Close(); f.Close() }
			}
			viewed, done1 := open()
			if viewed == nil {
				continue // not a capture replay reads
			}
			filled, done2 := open()
			for n := 1; ; n++ {
				a, errA := viewed.NextRef()
				b, errB := filled.NextRef()
				if errA != nil || errB != nil {
					if !errors.Is(errA, io.EOF) && (errA == nil) != (errB == nil) {
						t.Errorf("%s: frame %d: %v, with Fill %v", path, n, errA, errB)
					}
					break
				}
				frames++
				p := &a.Packet
				past := a.Frame.Tail.Off > 0 && p.PayloadOffset() >= 0 && p.PayloadOffset()+len(p.Payload) > a.Frame.Tail.Off
				var got []byte
				called := false
				if err := viewed.WithPayload(a, func(d []byte) { got, called = bytes.Clone(d), true }); err != nil {
					t.Fatalf("%s: frame %d: WithPayload: %v", path, n, err)
				}
				if err := filled.Fill(b); err != nil {
					t.Fatalf("%s: frame %d: Fill: %v", path, n, err)
				}
				if !called || !bytes.Equal(got, b.Packet.Payload) {
					t.Fatalf("%s: frame %d: WithPayload lent %d bytes % x..., Fill gave %d % x...", path, n, len(got), got[:min(16, len(got))], len(b.Packet.Payload), b.Packet.Payload[:min(16, len(b.Packet.Payload))])
				}
				if past {
					lent++
					if a.Frame.Tail.Off == 0 {
						t.Fatalf("%s: frame %d: WithPayload filled the item instead of lending", path, n)
					}
				}
			}
			done1()
			done2()
		}
	}
	t.Logf("%d frames, %d lent", frames, lent)
	if frames < 10000 || lent < 1000 {
		t.Errorf("%d frames, %d payloads lent from past their heads: the captures no longer exercise it", frames, lent)
	}
}

// TestWithPayloadReassembled: a segment rebuilt from IP fragments lends
// its own payload, not the frame's bytes at its offsets. The capture is a
// first fragment of 8 bytes (half a TCP header) and a last one of 1 000,
// so that the rebuilt payload's offset and length would fit in the last
// fragment's frame and lending from there would give the wrong bytes; once
// read through a buffer, once (after 1 MiB of UDP frames) through the
// mapped reader in a pipeline set up as follow's (which reads a fragment
// whole, so the source is asked for the frame's own bytes either way).
func TestWithPayloadReassembled(t *testing.T) {
	for _, mapped := range []bool{false, true} {
		testWithPayloadReassembled(t, mapped)
	}
}

func testWithPayloadReassembled(t *testing.T, mapped bool) {
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1000, Ack: 1, ACK: true, PSH: true, Window: 512}
	payload := make([]byte, 988)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	ipHdr := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}}
	if err := tcp.SetNetworkLayerForChecksum(ipHdr); err != nil {
		t.Fatal(err)
	}
	seg := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(seg, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	whole := seg.Bytes()
	path := filepath.Join(t.TempDir(), "frag.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	eth := &layers.Ethernet{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6), EthernetType: layers.EthernetTypeIPv4}
	for i := 0; mapped && i < 800; i++ {
		ip := *ipHdr
		ip.Protocol = layers.IPProtocolUDP
		udp := &layers.UDP{SrcPort: 5000, DstPort: 5001}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, eth, &ip, udp, gopacket.Payload(make([]byte, 1400))); err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	for _, piece := range [][2]int{{0, 8}, {8, len(whole)}} {
		ip := *ipHdr
		ip.Id, ip.FragOffset = 7, uint16(piece[0]/8)
		if piece[1] < len(whole) {
			ip.Flags = layers.IPv4MoreFragments
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, &ip, gopacket.Payload(whole[piece[0]:piece[1]])); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(b), Length: len(b)}, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := replay.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	o := pipeline.Options{LazyPayload: true, Decode: decode.DecodeOptions{SkipChecksums: true}}
	if mapped { // as session.Load sets it up for follow
		o.Parallel, o.AnalysisStage, o.DecodeLate, o.HeadersOnly = true, true, true, true
	}
	pl := pipeline.NewWith(src, analysis.New(analysis.Options{}), o)
	defer pl.Close()
	lent := 0
	for {
		it, err := pl.NextRef()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !it.Reassembled {
			continue
		}
		if off := it.Packet.PayloadOffset(); off < 0 || off+len(it.Packet.Payload) > len(it.Frame.Data) {
			t.Fatalf("the rebuilt payload (offset %d, %d bytes) does not fit in the %d-byte frame: the test no longer tests it", off, len(it.Packet.Payload), len(it.Frame.Data))
		}
		var got []byte
		if err := pl.WithPayload(it, func(d []byte) { got = bytes.Clone(d) }); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, payload) {
			t.Fatalf("mapped %v: lent %d bytes %q…, want the segment's %d %q…", mapped, len(got), got[:min(20, len(got))], len(payload), payload[:20])
		}
		lent++
	}
	if lent != 1 {
		t.Fatalf("%d reassembled segments, want 1", lent)
	}
}
