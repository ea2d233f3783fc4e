package render

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
)

// TestSummaryWording: counts of one are singular, the handshake is the one
// from the first SYN (with how often the SYN went), and a refused
// connection has no handshake.
func TestSummaryWording(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c, s := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80")
	for _, tc := range []struct {
		sum         analysis.Summary
		has, hasNot []string
	}{
		{analysis.Summary{Client: c, Server: s, First: t0, Last: t0.Add(3500 * time.Millisecond),
			ClientPackets: 1, ClientBytes: 1, ServerPackets: 1, Retransmissions: 1, DupAcks: 1, ZeroWindows: 1,
			HandshakeRTT: 370 * time.Millisecond, HasHandshakeRTT: true, Handshake: 3400 * time.Millisecond, HasHandshake: true, SYNs: 3,
			Ending: analysis.ClosedByBoth},
			[]string{"1 connection:", "handshake 3.4 s (SYN sent 3 times)", "client sent 1 segment / 1 byte, server 1 / 0",
				"1 retransmission, 1 duplicate ACK, 1 zero window; closed by both (FIN)"},
			[]string{"370 ms", "segments", "retransmissions"}},
		{analysis.Summary{Client: c, Server: s, First: t0, Last: t0.Add(28 * time.Microsecond),
			ClientPackets: 1, ServerPackets: 1, HandshakeRTT: 28 * time.Microsecond, HasHandshakeRTT: true, SYNs: 1,
			Ending: analysis.Refused},
			[]string{"refused: the SYN was answered by RST", "0 retransmissions"},
			[]string{"handshake"}},
	} {
		var b bytes.Buffer
		Summary(&b, NewTheme(false), []analysis.Summary{tc.sum}, 0)
		for _, h := range tc.has {
			if !strings.Contains(b.String(), h) {
				t.Errorf("summary lacks %q:\n%s", h, b.String())
			}
		}
		for _, h := range tc.hasNot {
			if strings.Contains(b.String(), h) {
				t.Errorf("summary has %q:\n%s", h, b.String())
			}
		}
	}
}
