package pipeline_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/replay"
	"github.com/tcpscope/tcpscope/session"
)

// stagesMaxFrames bounds how much of BENCH_PCAP the stage benchmarks hold
// in memory (frames, decoded segments and results for each).
const stagesMaxFrames = 200000

// stagesCapture is the capture the stage benchmarks time: BENCH_PCAP when
// set (make bench passes its large captures), else a real lossy loopback
// bulk transfer from pcaps/.
func stagesCapture(b *testing.B) []byte {
	path := os.Getenv("BENCH_PCAP")
	if path == "" {
		path = "../pcaps/lo-bulk-loss.pcap"
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	// Only the first stagesMaxFrames frames (a large capture is cut:
	// frames are at most a few KiB here, so 64 KiB each is generous).
	data, err := io.ReadAll(io.LimitReader(f, stagesMaxFrames*(16+1600)))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkStages reports what each stage of a replay costs per packet, one
// stage at a time, each on the output of the stages before it kept in
// memory: read (pcap record parsing), decode (headers, options, checksums
// as replay does; decode-nocsum as stats does), analysis (the analyzer's
// verdicts and notes' facts), render-text and render-json (one line, into
// io.Discard), stats-table (stats's per-connection sums); the render and
// table stages decode their packet again (subtract "decode"), since one
// decoded Packet per frame of a large capture would not fit. One benchmark
// iteration is one packet, so ns/op is ns/packet and allocs/op is
// allocations per packet.
func BenchmarkStages(b *testing.B) {
	data := stagesCapture(b)
	// Read everything once: the frames (copied), their decoded TCP segments
	// and analysis results, as inputs of the later stages.
	src, err := replay.NewReader(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	var frames []frame.Frame
	for len(frames) < stagesMaxFrames {
		f, err := src.Next()
		if err != nil {
			break // the end, or a record cut by the limit
		}
		f.Data = append([]byte(nil), f.Data...)
		frames = append(frames, f)
	}
	if len(frames) == 0 {
		b.Fatal("no frames")
	}
	type analysed struct {
		f   frame.Frame
		seg analysis.Segment
		res analysis.Result
	}
	var segs []analysed
	{
		an := analysis.New(analysis.Options{})
		var p decode.Packet
		for _, f := range frames {
			if decode.Decode(f, &p) != nil || p.TCP == nil || p.TCPShort || p.Fragment {
				continue
			}
			s := pipeline.SegmentOf(f.Meta, &p, nil)
			segs = append(segs, analysed{f: f, seg: s, res: an.Add(s)})
		}
	}
	if len(segs) == 0 {
		b.Fatal("no TCP segments")
	}
	// Each stage runs on one locked OS thread, so that its CPU time can be
	// read (cpu-ns/packet): on a busy machine wall-clock ns/op also
	// counts the time the thread waited for a core.
	// allocs/packet is allocs/op with decimals (the testing package
	// prints a whole number).
	var cpu0 int64
	var ms runtime.MemStats
	var mallocs0 uint64
	start := func(b *testing.B) {
		runtime.LockOSThread()
		b.Cleanup(runtime.UnlockOSThread)
		runtime.ReadMemStats(&ms)
		mallocs0 = ms.Mallocs
		cpu0 = threadCPU()
	}
	perPacket := func(b *testing.B, n int) {
		c := threadCPU()
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
		if c != 0 {
			b.ReportMetric(float64(c-cpu0)/float64(n), "cpu-ns/packet")
		}
		b.ReportMetric(float64(ms.Mallocs-mallocs0)/float64(n), "allocs/packet")
	}

	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		start(b)
		n := 0
		var src frame.Source
		for b.Loop() {
			if src == nil {
				if src, err = replay.NewReader(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := src.Next(); err != nil {
				src = nil // start again (the reader's allocations are per file)
				continue
			}
			n++
		}
		perPacket(b, n)
	})
	for _, skip := range []bool{false, true} {
		name := "decode"
		if skip {
			name = "decode-nocsum"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			start(b)
			start(b)
			var p decode.Packet
			o := decode.DecodeOptions{SkipChecksums: skip}
			n := 0
			for b.Loop() {
				decode.DecodeWith(frames[n%len(frames)], &p, o)
				n++
			}
			perPacket(b, n)
		})
	}
	for _, noNotes := range []bool{false, true} {
		name := "analysis"
		if noNotes {
			name = "analysis-nonotes"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			start(b)
			// A new analyzer at each pass over the capture: the same segments
			// again would be retransmissions. Its setup is a few allocations
			// per pass, counted here too.
			var an *analysis.Analyzer
			n := 0
			for b.Loop() {
				i := n % len(segs)
				if i == 0 {
					an = analysis.New(analysis.Options{NoNotes: noNotes})
				}
				an.Add(segs[i].seg)
				n++
			}
			perPacket(b, n)
		})
	}
	renderStage := func(name string, seg func(m frame.Meta, p *decode.Packet, r *analysis.Result) error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			start(b)
			start(b)
			var p decode.Packet
			n := 0
			for b.Loop() {
				s := &segs[n%len(segs)]
				decode.Decode(s.f, &p)
				if err := seg(s.f.Meta, &p, &s.res); err != nil {
					b.Fatal(err)
				}
				n++
			}
			perPacket(b, n)
		})
	}
	// Both with the capture's start, as replay sets it: without one, every
	// relative time is 56 years and takes strconv's float path.
	renderStage("decode+render-text", (&render.Text{W: io.Discard, Theme: render.NewTheme(false), Start: frames[0].Meta.Time}).Segment)
	renderStage("decode+render-json", (&render.JSON{W: io.Discard, Start: frames[0].Meta.Time}).Segment)
	b.Run("decode+stats-table", func(b *testing.B) {
		b.ReportAllocs()
		start(b)
		var tab session.Table
		defer tab.Close()
		var it pipeline.Item
		n := 0
		for b.Loop() {
			s := &segs[n%len(segs)]
			decode.Decode(s.f, &it.Packet)
			it.Frame, it.Analyzed, it.Segment, it.Result = s.f, true, s.seg, s.res
			tab.Add(&it)
			n++
		}
		perPacket(b, n)
		if err := tab.Err(); err != nil && !errors.Is(err, io.EOF) {
			b.Fatal(err)
		}
	})
}
