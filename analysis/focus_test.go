package analysis_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
)

// TestFocusSameResults: an analyzer focused on one stream (Options.Focus,
// follow's, graph's and ladder's) numbers every segment of every shipped
// capture as a full one does, gives that stream's segments the same Result
// (note included), and the others the same relative seq and ack. Each
// capture is run focused on each of its streams (at most 40, spread over
// them), with the default connection table and with one of three, so that
// connections are evicted and come back from their tombstones as well.
func TestFocusSameResults(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "pcaps", "*.pcap*"))
	if err != nil {
		t.Fatal(err)
	}
	captures, focused, evicted := 0, 0, 0
	for _, path := range paths {
		if strings.HasSuffix(path, ".xz") || strings.HasSuffix(path, ".zst") {
			continue
		}
		segs, err := readCapture(path)
		if err != nil {
			continue // not a capture gopacket reads whole (the invalid-file tests' ones)
		}
		_, frames := analysedFrames(t, filepath.Base(path))
		if len(frames) == 0 {
			continue
		}
		captures++
		for _, maxStreams := range []int{0, 3} {
			full := analysis.New(analysis.Options{MaxStreams: maxStreams})
			want := make([]analysis.Result, len(frames))
			for i, f := range frames {
				want[i] = full.Add(segs[f].seg)
			}
			if full.EvictedStreams() > 0 {
				evicted++
			}
			n := full.Streams()
			step := max(1, n/40)
			for stream := 0; stream < n; stream += step {
				focus := analysis.New(analysis.Options{MaxStreams: maxStreams, Focus: true, Stream: stream})
				for i, f := range frames {
					got := focus.Add(segs[f].seg)
					w := want[i]
					if got.Stream != w.Stream {
						t.Fatalf("%s (max %d streams), focused on stream %d: frame %d in stream %d, want %d",
							path, maxStreams, stream, f, got.Stream, w.Stream)
					}
					if w.Stream == stream {
						if got != w || got.Note.String() != w.Note.String() {
							t.Fatalf("%s (max %d streams), focused on stream %d: frame %d:\n got %+v\nwant %+v",
								path, maxStreams, stream, f, got, w)
						}
						continue
					}
					if got.Seq != w.Seq || got.Ack != w.Ack || got.Frame != w.Frame ||
						got.Flags&analysis.ReusedPorts != w.Flags&analysis.ReusedPorts {
						t.Fatalf("%s (max %d streams), focused on stream %d: frame %d of stream %d: seq %d ack %d reused %v, want %d %d %v",
							path, maxStreams, stream, f, w.Stream, got.Seq, got.Ack, got.Flags&analysis.ReusedPorts != 0,
							w.Seq, w.Ack, w.Flags&analysis.ReusedPorts != 0)
					}
				}
				if focus.Streams() != n || focus.EvictedStreams() != full.EvictedStreams() {
					t.Fatalf("%s (max %d streams), focused on stream %d: %d streams, %d evicted; want %d, %d",
						path, maxStreams, stream, focus.Streams(), focus.EvictedStreams(), n, full.EvictedStreams())
				}
				focused++
			}
		}
	}
	if captures < 20 || evicted == 0 {
		t.Fatalf("%d captures read, %d of them with evictions: the test covers too little", captures, evicted)
	}
	t.Logf("%d captures, %d focused runs, %d with evictions", captures, focused, evicted)
}
