package analysis_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
)

// TestNoNotesSameVerdicts: an analyzer with Options.NoNotes (stats's) gives
// every segment of real lossy captures the same Result as one with notes,
// less the Note, which stays zero.
func TestNoNotesSameVerdicts(t *testing.T) {
	for _, name := range []string{"lo-bulk-loss.pcap", "lo-short-conns-loss.pcap", "lo-ipv6-loss.pcap"} {
		segs, err := readCapture(filepath.Join("..", "pcaps", name))
		if err != nil {
			t.Fatal(err)
		}
		frames := make([]int, 0, len(segs))
		for f, cs := range segs {
			if cs.skip == "" {
				frames = append(frames, f)
			}
		}
		slices.Sort(frames)
		with, without := analysis.New(analysis.Options{}), analysis.New(analysis.Options{NoNotes: true})
		noted := 0
		for _, f := range frames {
			a, b := with.Add(segs[f].seg), without.Add(segs[f].seg)
			if !b.Note.IsZero() {
				t.Fatalf("%s frame %d: NoNotes gave a note: %s", name, f, b.Note.String())
			}
			if !a.Note.IsZero() {
				noted++
			}
			a.Note = analysis.Note{}
			if a != b {
				t.Fatalf("%s frame %d: with notes %+v, without %+v", name, f, a, b)
			}
		}
		if noted == 0 {
			t.Fatalf("%s: no notes at all", name)
		}
	}
}
