package decode_test

import (
	"testing"

	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
)

// TestTruncatedOnlyWhenThePacketIsCut: a minimum-size Ethernet frame
// carries a 40-byte IPv4/TCP packet and 6 bytes of padding; a capture
// that kept 54 of its 60 bytes lost only the padding, so the packet is
// whole and nothing is reported missing. Cutting into the packet itself
// still is.
func TestTruncatedOnlyWhenThePacketIsCut(t *testing.T) {
	eth := mustHex("000000000002 000000000001 0800")
	ip := mustHex("4500 0028 0001 0000 4006 0000 0a000001 0a000002")
	tcp := mustHex("9c40 0050 000003e8 00000000 5002 ffff 0000 0000")
	pkt := append(append(append([]byte{}, eth...), ip...), tcp...) // 54 bytes
	for _, tc := range []struct {
		name      string
		capLen    int
		origLen   int
		truncated bool
	}{
		{"padding not captured", 54, 60, false},
		{"whole frame", 54, 54, false},
		{"TCP header cut", 50, 60, true},
	} {
		var p decode.Packet
		data := pkt[:tc.capLen]
		_ = decode.Decode(frame.Frame{Data: data, Meta: frame.Meta{CapLen: tc.capLen, OrigLen: tc.origLen, Link: frame.LinkEthernet}}, &p)
		if p.Truncated != tc.truncated {
			t.Errorf("%s (%d of %d bytes): Truncated = %v, want %v", tc.name, tc.capLen, tc.origLen, p.Truncated, tc.truncated)
		}
	}
}
