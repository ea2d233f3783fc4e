package analysis_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
)

// Feed segments in capture order and print what the analyzer says about
// each, then the per-connection summary.
func Example() {
	cli := netip.MustParseAddrPort("127.0.0.1:41000")
	srv := netip.MustParseAddrPort("127.0.0.1:7000")
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	segs := []analysis.Segment{
		{Src: cli, Dst: srv, Seq: 3405691582, Flags: analysis.SYN, Window: 65495, MSS: 65495, WScale: 7, SACKPerm: true},
		{Src: srv, Dst: cli, Seq: 1000, Ack: 3405691583, Flags: analysis.SYN | analysis.ACK, Window: 65483, MSS: 65495, WScale: 7, SACKPerm: true},
		{Src: cli, Dst: srv, Seq: 3405691583, Ack: 1001, Flags: analysis.ACK, Window: 512, MSS: -1, WScale: -1},
		{Src: cli, Dst: srv, Seq: 3405691583, Ack: 1001, Flags: analysis.ACK | analysis.PSH, Window: 512, Len: 12, MSS: -1, WScale: -1},
		{Src: srv, Dst: cli, Seq: 1001, Ack: 3405691595, Flags: analysis.ACK, Window: 512, MSS: -1, WScale: -1},
	}
	a := analysis.New(analysis.Options{})
	for i, s := range segs {
		s.Frame = i + 1
		s.Time = start.Add(time.Duration(i*20) * time.Microsecond)
		r := a.Add(s)
		fmt.Printf("#%d stream %d seq %d ack %d win %d: %s\n", r.Frame, r.Stream, r.Seq, r.Ack, r.Win, r.Note)
	}
	for _, s := range a.Summaries() {
		fmt.Printf("stream %d: %v -> %v, handshake %v, %s\n", s.Stream, s.Client, s.Server, s.HandshakeRTT, s.Ending)
	}
	// Output:
	// #1 stream 0 seq 0 ack 0 win 65495: handshake 1/3: client asks to connect (ISN 3405691582, MSS 65495, wscale 7, SACK ok)
	// #2 stream 0 seq 0 ack 1 win 65483: handshake 2/3: server accepts (SYN-ACK, ISN 1000, MSS 65495, wscale 7, SACK ok)
	// #3 stream 0 seq 1 ack 1 win 65536: handshake 3/3: connection established in 40 µs
	// #4 stream 0 seq 1 ack 1 win 65536: 12 bytes of data
	// #5 stream 0 seq 1 ack 13 win 65536: acks 12 bytes sent in #4 (rtt 20 µs)
	// stream 0: 127.0.0.1:41000 -> 127.0.0.1:7000, handshake 40µs, still open
}
