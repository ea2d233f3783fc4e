package render

import (
	"bytes"
	"io"
	"math/rand"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/tcpstate"
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

// TestSummarySameAsFmt: the summary built by appending is byte for byte
// the one fmt wrote (summaryWithFmt), for every ending, with and without
// a handshake, a guessed client, repeated SYNs, dropped state, IPv6 and
// zero endpoints, counts of 0, 1 and many, colour on and off, and more
// blocks than one write holds.
func TestSummarySameAsFmt(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	eps := []netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("127.0.0.1:80"),
		netip.MustParseAddrPort("[2001:db8::1]:443"), netip.MustParseAddrPort("[fe80::1%eth0]:22"), {},
	}
	n := func() int { return []int{0, 1, 2, 1448, 1 << 40}[rng.Intn(5)] }
	var sums []analysis.Summary
	for i := range 3000 {
		sums = append(sums, analysis.Summary{
			Stream: i, Client: eps[rng.Intn(len(eps))], Server: eps[rng.Intn(len(eps))],
			ClientGuessed: rng.Intn(4) == 0,
			First:         t0, Last: t0.Add(time.Duration(rng.Int63n(int64(time.Hour)))),
			ClientPackets: n(), ClientBytes: n(), ServerPackets: n(), ServerBytes: n(),
			Retransmissions: n(), DupAcks: n(), ZeroWindows: n(),
			Handshake: time.Duration(rng.Int63n(int64(time.Second))), HasHandshake: rng.Intn(3) > 0,
			SYNs: rng.Intn(4), Ending: analysis.Ending(rng.Intn(12)), StateDropped: rng.Intn(20) == 0,
		})
	}
	for _, colour := range []bool{false, true} {
		for _, dropped := range []int{0, 1, 7} {
			th := NewTheme(colour)
			th.Enabled = colour
			var got, want strings.Builder
			SummaryWith(&got, th, sums, dropped, nil)
			summaryWithFmt(&want, th, sums, dropped, nil)
			if colour != strings.Contains(got.String(), "\x1b[") {
				t.Fatalf("colour %v: escape sequences %v", colour, !colour)
			}
			if got.String() != want.String() {
				g, w := strings.Split(got.String(), "\n"), strings.Split(want.String(), "\n")
				for i := range min(len(g), len(w)) {
					if g[i] != w[i] {
						t.Fatalf("colour %v, dropped %d: line %d is\n%q, want\n%q", colour, dropped, i+1, g[i], w[i])
					}
				}
				t.Fatalf("colour %v, dropped %d: %d lines, want %d", colour, dropped, len(g), len(w))
			}
		}
	}
}

func BenchmarkSummary(b *testing.B) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c, s := netip.MustParseAddrPort("127.0.0.1:40000"), netip.MustParseAddrPort("127.0.0.1:35589")
	sums := make([]analysis.Summary, 1000)
	for i := range sums {
		sums[i] = analysis.Summary{Stream: i, Client: c, Server: s, First: t0, Last: t0.Add(time.Millisecond),
			ClientPackets: 5, ClientBytes: 31, ServerPackets: 5, ServerBytes: 300, HasHandshake: true,
			Handshake: 3 * time.Microsecond, SYNs: 1, Ending: analysis.ClosedByBoth}
	}
	for _, impl := range []struct {
		name string
		f    func(io.Writer, Theme, []analysis.Summary, int, *tcpstate.Tracker)
	}{{"append", SummaryWith}, {"fmt", summaryWithFmt}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				impl.f(io.Discard, NewTheme(false), sums, 0, nil)
			}
		})
	}
}
