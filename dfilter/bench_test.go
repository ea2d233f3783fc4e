package dfilter_test

import (
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/dfilter"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/replay"
)

// loadItems runs a capture through the pipeline once and keeps every
// frame's item, with its own copy of the bytes, so a benchmark can time
// Match alone.
func loadItems(tb testing.TB, path string) []*pipeline.Item {
	src, err := replay.Open(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	pl := pipeline.New(src, analysis.New(analysis.Options{}))
	var items []*pipeline.Item
	for {
		it, err := pl.NextRef()
		if err != nil {
			break
		}
		// Decoded again from a private copy, so the header views do
		// not alias the source's buffer (the analysis result is kept).
		c := new(pipeline.Item)
		*c = *it
		c.Frame.Data = append([]byte(nil), it.Frame.Data...)
		if !it.Reassembled {
			c.DecodeErr = decode.Decode(c.Frame, &c.Packet)
		}
		items = append(items, c)
	}
	return items
}

// BenchmarkMatch times typical filters over every frame of a capture with
// loss, SACK and retransmissions. Each must run with 0 allocs/op.
func BenchmarkMatch(b *testing.B) {
	items := loadItems(b, "../pcaps/lo-bulk-loss.pcap")
	for _, expr := range []string{
		"tcp.analysis.flags",
		"tcp.analysis.retransmission && tcp.stream == 3",
		"tcp.analysis.ack_rtt > 0.2",
		"ip.addr == 10.0.0.0/8 || tcp.port in {80, 443, 8000..8100}",
		"tcp.options.sack_le > 1000 and !tcp.analysis.duplicate_ack",
		"tcp.payload[0:4] == 47:45:54:20 or tcp.payload contains \"HTTP\"",
		"tcp.payload matches \"^get /\"",
	} {
		f, err := dfilter.Compile(expr)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(expr, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for i := 0; i < b.N; i++ {
				if f.Match(items[i%len(items)]) {
					n++
				}
			}
		})
	}
}

// TestMatchAllocatesNothing is BenchmarkMatch's promise as a test.
func TestMatchAllocatesNothing(t *testing.T) {
	items := loadItems(t, "../pcaps/lo-bulk-loss.pcap")
	for _, expr := range []string{
		"tcp.analysis.flags",
		"tcp.analysis.retransmission && tcp.stream == 3 || tcp.analysis.ack_rtt > 0.2",
		"ip.addr == 10.0.0.0/8 || tcp.port in {80, 443, 8000..8100} || ip.src[0] == 7f",
		"tcp.options.sack_le > 1000 and !tcp.analysis.duplicate_ack and count(tcp.options.sack_re) > 1",
		"tcp.payload[0:4] == 47:45:54:20 or tcp.payload contains \"HTTP\" or len(tcp.payload) > 3",
		"tcp.port != 80 && tcp.flags & 0x02 && frame.time_delta < 0.5",
	} {
		f, err := dfilter.Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		if a := testing.AllocsPerRun(2000, func() {
			f.Match(items[i%len(items)])
			i++
		}); a != 0 {
			t.Errorf("%q: %.2f allocations per frame, want 0", expr, a)
		}
	}
}
