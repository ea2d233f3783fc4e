package analysis_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
)

// costShape makes segment i of a one-way stream of 1-byte segments: the
// shapes whose cost used to grow with the number of unacknowledged segments
// (issue 20), and the acknowledged baseline.
type costShape struct {
	name string
	seg  func(i int) analysis.Segment
}

var (
	costCli = netip.MustParseAddrPort("10.0.0.1:40000")
	costSrv = netip.MustParseAddrPort("10.0.0.2:80")
	costT0  = time.Unix(1700000000, 0)
)

func costData(frame int, seq uint32) analysis.Segment {
	return analysis.Segment{Frame: frame, Time: costT0.Add(time.Duration(frame) * time.Microsecond),
		Src: costCli, Dst: costSrv, Seq: seq, Ack: 5001, Flags: analysis.ACK, Window: 65535, Len: 1,
		MSS: -1, WScale: -1}
}

func costAck(frame int, ack uint32) analysis.Segment {
	return analysis.Segment{Frame: frame, Time: costT0.Add(time.Duration(frame) * time.Microsecond),
		Src: costSrv, Dst: costCli, Seq: 5001, Ack: ack, Flags: analysis.ACK, Window: 65535,
		MSS: -1, WScale: -1}
}

var costShapes = []costShape{
	// In order, never acknowledged (a capture that misses the ACKs).
	{"unacked-inorder", func(i int) analysis.Segment { return costData(i+1, 1000+uint32(i)) }},
	// Out of order, never acknowledged: each pair of data segments arrives
	// swapped, then the receiver repeats its ACK of the first byte (which
	// makes bytes in flight computable again after each "previous segment
	// not captured").
	{"unacked-reordered", func(i int) analysis.Segment {
		g := uint32(i / 3)
		switch i % 3 {
		case 0:
			return costData(i+1, 1000+2*g+1)
		case 1:
			return costData(i+1, 1000+2*g)
		}
		return costAck(i+1, 1000)
	}},
	// The baseline: every segment acknowledged by the next frame.
	{"acked", func(i int) analysis.Segment {
		if i%2 == 0 {
			return costData(i+1, 1000+uint32(i/2))
		}
		return costAck(i+1, 1000+uint32(i/2)+1)
	}},
}

// BenchmarkCostPerSegment reports the cost of one segment in streams of 10 k
// and 1 M segments: if the cost per segment depended on how many segments
// are outstanding, the 1 M figures would be higher. Each op is one segment;
// a new analyzer starts every size segments.
func BenchmarkCostPerSegment(b *testing.B) {
	for _, sh := range costShapes {
		for _, size := range []int{10_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/%dk", sh.name, size/1000), func(b *testing.B) {
				b.ReportAllocs()
				a := analysis.New(analysis.Options{})
				i := 0
				for b.Loop() {
					if i == size {
						a, i = analysis.New(analysis.Options{}), 0
					}
					a.Add(sh.seg(i))
					i++
				}
			})
		}
	}
}

// TestAllocsWindowRounds: a transfer that keeps more than 32 segments in
// flight and has them all acknowledged each round trip moves its list from
// a slice into a B-tree and back every round. That recycles the tree and
// its nodes: no allocation per round once running (it used to build a new
// tree each round, 0.14 allocations per packet on a bulk capture).
func TestAllocsWindowRounds(t *testing.T) {
	const perRound = 48 // data segments per round trip, then one ACK
	an := analysis.New(analysis.Options{})
	frame, seq := 0, uint32(1000)
	round := func() {
		for range perRound {
			frame++
			an.Add(costData(frame, seq))
			seq++
		}
		frame++
		an.Add(costAck(frame, seq))
	}
	for range 10 {
		round() // warm: the free list fills
	}
	if n := testing.AllocsPerRun(200, round); n > 0 {
		t.Errorf("%.2f allocations per round trip of %d segments, want 0", n, perRound+1)
	}
}

// TestAllocsShortConnections: once the connection table is full, a new
// connection reuses an evicted one's storage, so a capture of many short
// connections allocates almost nothing per connection (it allocated a conn,
// a list node and the unacknowledged slice's growth each time: about 3 per
// connection, 0.12 per packet on make bench's capture).
func TestAllocsShortConnections(t *testing.T) {
	an := analysis.New(analysis.Options{MaxStreams: 50})
	srv := netip.MustParseAddrPort("10.0.0.2:80")
	frame, port := 0, 1024
	conn := func() {
		port++
		if port > 60000 {
			port = 1025
		}
		cli := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(port))
		seg := func(src, dst netip.AddrPort, flags uint8, seq, ack uint32, n int) {
			frame++
			an.Add(analysis.Segment{Frame: frame, Time: costT0.Add(time.Duration(frame) * time.Microsecond),
				Src: src, Dst: dst, Seq: seq, Ack: ack, Flags: flags, Window: 65535, Len: n, MSS: -1, WScale: -1})
		}
		seg(cli, srv, analysis.SYN, 100, 0, 0)
		seg(srv, cli, analysis.SYN|analysis.ACK, 900, 101, 0)
		seg(cli, srv, analysis.ACK, 101, 901, 0)
		seg(cli, srv, analysis.ACK|analysis.PSH, 101, 901, 30)
		seg(srv, cli, analysis.ACK|analysis.PSH, 901, 131, 300)
		seg(cli, srv, analysis.ACK|analysis.FIN, 131, 1201, 0)
		seg(srv, cli, analysis.ACK|analysis.FIN, 1201, 132, 0)
		seg(cli, srv, analysis.ACK, 132, 1202, 0)
	}
	for range 2000 {
		conn() // warm: the table fills, then evicts; the tombstones' ring fills
	}
	if n := testing.AllocsPerRun(500, conn); n > 0.05 {
		t.Errorf("%.3f allocations per short connection of 8 segments, want ≤ 0.05", n)
	}
}
