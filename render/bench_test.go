package render_test

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/replay"
)

// analysed is one rendered-ready segment, kept (bytes copied) so that the
// benchmarks time rendering alone.
type analysed struct {
	meta   frame.Meta
	data   []byte
	result analysis.Result
}

func load(b *testing.B, path string) []analysed {
	b.Helper()
	f, err := replay.Open(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	pl := pipeline.New(f, analysis.New(analysis.Options{}))
	var out []analysed
	var it pipeline.Item
	for {
		err := pl.Next(&it)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			b.Fatal(err)
		}
		if it.Analyzed && !it.Reassembled {
			out = append(out, analysed{it.Frame.Meta, append([]byte(nil), it.Frame.Data...), it.Result})
		}
	}
}

// benchRender renders every segment of a real lossy loopback transfer (and
// of an HTTP capture) over and over into io.Discard, reporting segments/s;
// decoding is redone per segment (it is cheap and allocation-free) so that
// only one Packet is live, as in the product.
//
// start is given each capture's first time, as replay sets the renderer's
// Start (without it, every relative time takes strconv's float path).
func benchRender(b *testing.B, start func(time.Time), segment func(m frame.Meta, p *decode.Packet, r *analysis.Result) error) {
	for _, name := range []string{"lo-bulk-loss.pcap", "zeek-http-1000-requests-one-dropped-response.pcap"} {
		segs := load(b, "../pcaps/"+name)
		start(segs[0].meta.Time)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var p decode.Packet
			n := 0
			for b.Loop() {
				s := &segs[n%len(segs)]
				decode.Decode(frame.Frame{Data: s.data, Meta: s.meta}, &p)
				if err := segment(s.meta, &p, &s.result); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

func BenchmarkText(b *testing.B) {
	t := &render.Text{W: io.Discard, Theme: render.NewTheme(false)}
	benchRender(b, func(s time.Time) { t.Start = s }, t.Segment)
}

func BenchmarkJSON(b *testing.B) {
	j := &render.JSON{W: io.Discard}
	benchRender(b, func(s time.Time) { j.Start = s }, j.Segment)
}

// BenchmarkDecodeOnly is the decoding share of the render benchmarks, to
// subtract.
func BenchmarkDecodeOnly(b *testing.B) {
	benchRender(b, func(time.Time) {}, func(frame.Meta, *decode.Packet, *analysis.Result) error { return nil })
}
