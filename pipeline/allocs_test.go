package pipeline_test

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/replay"
	"github.com/tcpscope/tcpscope/session"
)

// TestAllocsPerPacket: replay (text and JSON) and stats allocate at most
// 0.01 times per packet once running, on a real lossy bulk transfer whose
// unacknowledged lists grow into B-trees and shrink back every few round
// trips, and whose segments carry analysis flags (retransmissions,
// duplicate ACKs). The first frames (the reader's, analyzer's and
// renderers' buffers growing to size) are not counted.
func TestAllocsPerPacket(t *testing.T) {
	data, err := os.ReadFile("../pcaps/lo-bulk-loss.pcap")
	if err != nil {
		t.Fatal(err)
	}
	const warm = 300
	for _, out := range []string{"text", "json", "stats"} {
		t.Run(out, func(t *testing.T) {
			src, err := replay.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			pl := pipeline.New(src, analysis.New(analysis.Options{}))
			text := &render.Text{W: io.Discard, Theme: render.NewTheme(false)}
			js := &render.JSON{W: io.Discard}
			var tab session.Table
			defer tab.Close()
			var ms runtime.MemStats
			var before uint64
			n, flagged := 0, 0
			for {
				it, err := pl.NextRef()
				if err != nil {
					break
				}
				if n == warm {
					runtime.ReadMemStats(&ms)
					before = ms.Mallocs
				}
				n++
				if !it.Analyzed {
					continue
				}
				if it.Result.Flags != 0 {
					flagged++
				}
				switch out {
				case "text":
					text.Segment(it.Frame.Meta, &it.Packet, &it.Result)
				case "json":
					js.Segment(it.Frame.Meta, &it.Packet, &it.Result)
				case "stats":
					tab.Add(it)
				}
			}
			runtime.ReadMemStats(&ms)
			if n < 1000 || flagged < 50 {
				t.Fatalf("%d frames, %d with analysis flags: not the capture this test needs", n, flagged)
			}
			per := float64(ms.Mallocs-before) / float64(n-warm)
			t.Logf("%s: %d allocations in %d frames (%.4f per frame)", out, ms.Mallocs-before, n-warm, per)
			if per > 0.01 {
				t.Errorf("%s: %.4f allocations per packet, want ≤ 0.01", out, per)
			}
		})
	}
}
