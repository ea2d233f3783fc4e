package dfilter_test

import (
	"errors"
	"testing"

	"github.com/tcpscope/tcpscope/dfilter"
)

// FuzzCompile feeds arbitrary text to the lexer, parser and type checker:
// each input either compiles, and then runs over real frames without a
// panic, or fails with a *dfilter.Error whose offsets lie inside it.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"tcp.analysis.flags", "tcp.analysis.retransmission && tcp.stream == 3",
		"tcp.port in {80 443 8000..8100}", "ip.addr == 10.0.0.0/8", "ipv6.src == fe80::/10",
		"tcp.payload[0:4] == 47:45:54:20", "tcp.payload[-2:] == 0d:0a", "tcp.payload matches \"^get\"",
		"tcp.payload contains \"\\x47E\\124\"", "!(tcp.flags & 0x12 == 0x12) or len(tcp.payload) > 3",
		"eth.src[0:3] == 00:11:22", "frame.time_relative > 0.25 and tcp.analysis.ack_rtt <= 1",
		"count(tcp.options.sack_le) ~= 2", "tcp.srcport == tcp.dstport", "(tcp.port == 80",
	} {
		f.Add(s)
	}
	items := loadItems(f, "../pcaps/lo-keepalive.pcap")
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := dfilter.Compile(expr)
		if err != nil {
			var de *dfilter.Error
			if !errors.As(err, &de) {
				t.Fatalf("%q: error %v is not a *dfilter.Error", expr, err)
			}
			if de.Pos < 0 || de.End < de.Pos || de.End > len(expr) {
				t.Fatalf("%q: error offsets %d-%d outside the filter", expr, de.Pos, de.End)
			}
			_ = de.Caret("  ")
			return
		}
		for _, it := range items {
			flt.Match(it)
		}
	})
}
