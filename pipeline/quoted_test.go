package pipeline_test

import (
	"errors"
	"io"
	"net/netip"
	"reflect"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/replay"
)

// TestQuotedFrame: an ICMP error quoting a TCP header names the frame of
// the segment it quotes (its addresses, ports and sequence number), the
// latest one before it, and no other; checked against a plain walk over
// every earlier segment of the shipped captures with ICMP errors, and over
// gen-icmp-errors.pcap with every quoted source address changed (the same
// ports and sequence numbers: none may be named then).
func TestQuotedFrame(t *testing.T) {
	named, unnamed := quotedFrames(t, false)
	if named < 3 || unnamed < 1 {
		t.Errorf("%d ICMP errors name their segment's frame, %d do not: the captures no longer exercise both", named, unnamed)
	}
	named, unnamed = quotedFrames(t, true)
	if named != 0 || unnamed < 3 {
		t.Errorf("quoting other addresses: %d ICMP errors name a frame, %d do not", named, unnamed)
	}
}

// sliceSource gives frames from memory.
type sliceSource []frame.Frame

func (s *sliceSource) Next() (frame.Frame, error) {
	if len(*s) == 0 {
		return frame.Frame{}, io.EOF
	}
	f := (*s)[0]
	*s = (*s)[1:]
	return f, nil
}

func quotedFrames(t *testing.T, moved bool) (named, unnamed int) {
	type key struct {
		src, dst netip.AddrPort
		seq      uint32
	}
	paths := []string{"../pcaps/gen-icmp-errors.pcap", "../pcaps/gen-tun-gre.pcap", "../pcaps/tcpdump-pptp.pcap"}
	if moved {
		paths = paths[:1]
	}
	for _, path := range paths {
		f, err := replay.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		var frames sliceSource
		for {
			fr, err := f.Next()
			if err != nil {
				break
			}
			fr.Data = append([]byte(nil), fr.Data...)
			var pk decode.Packet
			if moved && decode.Decode(fr, &pk) == nil && pk.HasICMP {
				// The quoted IP header's source address, last byte.
				at := pk.ICMP.TCPOffset - 20 + 15
				if !pk.ICMP.Src.Is4() {
					at = pk.ICMP.TCPOffset - 40 + 23
				}
				fr.Data[at] ^= 0x55
			}
			frames = append(frames, fr)
		}
		f.Close()
		pl := pipeline.New(&frames, analysis.New(analysis.Options{}))
		last := map[key]int{} // the latest frame of each segment
		for {
			it, err := pl.NextRef()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			pk := &it.Packet
			if pk.HasICMP {
				e := pk.ICMP
				want := 0
				if q := decode.TCP(e.TCP); len(e.TCP) >= 8 {
					want = last[key{netip.AddrPortFrom(e.Src, q.SrcPort()), netip.AddrPortFrom(e.Dst, q.DstPort()), q.Seq()}]
				}
				if e.QuotedFrame != want {
					t.Errorf("%s: frame %d: quotes frame %d, want %d", path, it.Frame.Meta.Number, e.QuotedFrame, want)
				}
				if want > 0 {
					named++
				} else {
					unnamed++
				}
				continue
			}
			if pk.TCPHead() != nil {
				last[key{pk.SrcAddrPort(), pk.DstAddrPort(), pk.TCPHead().Seq()}] = it.Frame.Meta.Number
			}
		}
	}
	return named, unnamed
}

// TestNoQuotedFramesSameItems: with Options.NoQuotedFrames (stats's) every
// item of a capture of ICMP errors is the same as without, but for the
// frame each error quotes, which stays 0 (and is not 0 without it).
func TestNoQuotedFramesSameItems(t *testing.T) {
	items := func(o pipeline.Options) []pipeline.Item {
		f, err := replay.Open("../pcaps/gen-icmp-errors.pcap", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		pl := pipeline.NewWith(f, analysis.New(analysis.Options{}), o)
		var out []pipeline.Item
		for {
			var it pipeline.Item
			if err := pl.Next(&it); errors.Is(err, io.EOF) {
				return out
			} else if err != nil {
				t.Fatal(err)
			}
			out = append(out, it)
		}
	}
	with, without := items(pipeline.Options{}), items(pipeline.Options{NoQuotedFrames: true})
	if len(with) != len(without) || len(with) == 0 {
		t.Fatalf("%d items, %d with NoQuotedFrames", len(with), len(without))
	}
	quoted := 0
	for i := range with {
		a, b := &with[i], &without[i]
		if b.Packet.HasICMP && b.Packet.ICMP.QuotedFrame != 0 {
			t.Fatalf("frame %d: NoQuotedFrames, yet it quotes frame %d", b.Frame.Meta.Number, b.Packet.ICMP.QuotedFrame)
		}
		if a.Packet.HasICMP && a.Packet.ICMP.QuotedFrame != 0 {
			quoted++
			a.Packet.ICMP.QuotedFrame = 0
		}
		if a.Result != b.Result || a.Located != b.Located || a.Analyzed != b.Analyzed ||
			a.Packet.HasICMP != b.Packet.HasICMP || a.Packet.HasICMP && !reflect.DeepEqual(*a.Packet.ICMP, *b.Packet.ICMP) {
			t.Fatalf("frame %d differs with NoQuotedFrames: %+v, %+v", a.Frame.Meta.Number, a.Result, b.Result)
		}
	}
	if quoted == 0 {
		t.Fatal("no ICMP error quotes a frame: nothing compared")
	}
}
