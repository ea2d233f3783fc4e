package pipeline

import (
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/internal/inetsum"
	"github.com/tcpscope/tcpscope/replay"
)

// FuzzHeadersOnly: for any frame, if the decoding of its first headBytes
// alone (the rest poisoned) passes headDecoded, it gives the analysis the
// same input, and the caller the same fields, as decoding every byte.
// This is what lets a HeadersOnly pipeline skip copying payloads.
func FuzzHeadersOnly(f *testing.F) {
	files, _ := filepath.Glob("../pcaps/gen-*.pcap")
	files = append(files, "../pcaps/lo-ipv6-loss.pcap", "../pcaps/suricata-verify-defrag-ipv6-tcp-frag-ip-tcp.pcap", "../pcaps/pcapplusplus-sll2.pcap")
	for _, path := range files {
		src, err := replay.Open(path, nil)
		if err != nil {
			continue
		}
		for i := 0; i < 4; i++ {
			fr, err := src.Next()
			if errors.Is(err, io.EOF) || err != nil {
				break
			}
			f.Add(uint16(fr.Meta.Link), append([]byte(nil), fr.Data...))
		}
		src.Close()
	}
	f.Add(uint16(frame.LinkEthernet), deepFrame(256))
	f.Add(uint16(frame.LinkEthernet), deepFrame(120))
	f.Fuzz(func(t *testing.T, link uint16, data []byte) {
		meta := frame.Meta{Number: 1, CapLen: len(data), OrigLen: len(data), Link: frame.LinkType(link)}
		for _, opts := range []decode.DecodeOptions{{SkipChecksums: true}, {}, {BadChecksumsOnly: true}} {
			p := &Pipeline{dopts: opts}
			var full, head Item
			p.decodeHeaders(frame.Frame{Data: data, Meta: meta}, &full)
			poisoned := append([]byte(nil), data...)
			var tail frame.Tail
			if len(data) > headBytes {
				tail = frame.Tail{Off: headBytes}
			}
			for i := headBytes; i < len(poisoned); i++ {
				poisoned[i] = 0xEE
			}
			p.decodeHeaders(frame.Frame{Data: poisoned, Meta: meta, Tail: tail}, &head)
			if !opts.SkipChecksums && tail.Off > 0 {
				// As readAppend does when decode asks for the sum.
				tail.Summed, tail.Sum = true, inetsum.Fold(inetsum.Add(data[headBytes:], 0))
				head.Frame.Tail = tail
				head.Packet.VerifyTail(tail)
			}
			if !p.headDecoded(&head) {
				continue // copied again whole: nothing to compare
			}
			got, want := seen(&head), seen(&full)
			if !opts.SkipChecksums {
				got = []any{got, head.Packet.TCPChecksum, head.Packet.IPChecksum}
				want = []any{want, full.Packet.TCPChecksum, full.Packet.IPChecksum}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded from its head (%+v):\n%+v\nfrom every byte:\n%+v", opts, got, want)
			}
		}
	})
}

// seen is what a HeadersOnly caller may look at of a decoded frame.
func seen(it *Item) any {
	pk := &it.Packet
	var hdr []byte
	var seg any
	if t := pk.TCPHead(); t != nil {
		hdr = append(hdr, t[:min(len(t), 60)]...)
		seg = SegmentOf(it.Frame.Meta, pk, nil)
	}
	errText := ""
	if it.DecodeErr != nil {
		errText = it.DecodeErr.Error()
	}
	return []any{errText, seg, hdr, pk.PayloadLen, pk.Truncated, pk.Fragment,
		pk.TCPShort, pk.TCPBogus, pk.TCPHeaderTruncated, pk.HasICMP, pk.IPVersion, pk.Src, pk.Dst, pk.NOuter,
		pk.Skipped, pk.TCPOffset, pk.Options}
}

// deepFrame is an Ethernet frame holding IPv6 with a destination-options
// header of opts bytes (a multiple of 8), then a TCP header with 100 bytes
// of payload: with 256, the TCP header lies past headBytes.
func deepFrame(opts int) []byte {
	f := make([]byte, 12, 14+40+opts+20+100)
	f = append(f, 0x86, 0xdd)
	ipLen := opts + 20 + 100
	f = append(f, 0x60, 0, 0, 0, byte(ipLen>>8), byte(ipLen), 60, 64)
	f = append(f, make([]byte, 32)...)
	f[14+8+15], f[14+24+15] = 1, 2
	f = append(f, 6, byte(opts/8-1), 1, byte(opts-4))
	f = append(f, make([]byte, opts-4)...)
	f = append(f, 0x9c, 0x40, 0, 80, 0, 0, 3, 0xe9, 0, 0, 0x13, 0x89, 5<<4, 0x18, 0xff, 0xff, 0, 0, 0, 0)
	return append(f, make([]byte, 100)...)
}
