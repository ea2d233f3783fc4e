package pipeline_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/replay"
)

// BenchmarkPipeline times the whole replay path on a real lossy loopback
// capture held in memory: read → decode → analyse → render (text, JSON or
// nothing) into a buffered io.Discard, sequential and with reading and
// decoding on a goroutine of their own (NewParallel). packets/s counts
// every frame.
func BenchmarkPipeline(b *testing.B) {
	data, err := os.ReadFile("../pcaps/lo-bulk-loss.pcap")
	if err != nil {
		b.Fatal(err)
	}
	for _, par := range []bool{false, true} {
		for _, out := range []string{"none", "text", "json"} {
			name := out + "/sequential"
			if par {
				name = out + "/parallel"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				w := bufio.NewWriterSize(io.Discard, 64<<10)
				text := &render.Text{W: w}
				js := &render.JSON{W: w}
				n := 0
				for b.Loop() {
					src, err := replay.NewReader(bytes.NewReader(data))
					if err != nil {
						b.Fatal(err)
					}
					an := analysis.New(analysis.Options{})
					pl := pipeline.New(src, an)
					if par {
						pl = pipeline.NewParallel(src, an)
					}
					var it pipeline.Item
					for pl.Next(&it) == nil {
						n++
						if !it.Analyzed {
							continue
						}
						switch out {
						case "text":
							text.Segment(it.Frame.Meta, &it.Packet, &it.Result)
						case "json":
							js.Segment(it.Frame.Meta, &it.Packet, &it.Result)
						}
					}
					pl.Close()
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
			})
		}
	}
}
