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
		segs, frames := analysedFrames(t, name)
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

// TestNoBytesInFlightSameVerdicts: an analyzer with Options.NoBytesInFlight
// (stats's, with NoNotes) gives every segment of real lossy captures the
// same Result as one without it, less bytes in flight and push bytes,
// which it leaves unset.
func TestNoBytesInFlightSameVerdicts(t *testing.T) {
	for _, name := range []string{"lo-bulk-loss.pcap", "lo-short-conns-loss.pcap", "lo-ipv6-loss.pcap", "lo-reset.pcap"} {
		segs, frames := analysedFrames(t, name)
		with := analysis.New(analysis.Options{NoNotes: true})
		without := analysis.New(analysis.Options{NoNotes: true, NoBytesInFlight: true})
		inFlight, rtts := 0, 0
		for _, f := range frames {
			a, b := with.Add(segs[f].seg), without.Add(segs[f].seg)
			if b.HasBIF || b.BytesInFlight != 0 || b.HasPushBytes || b.PushBytesSent != 0 {
				t.Fatalf("%s frame %d: NoBytesInFlight gave bytes in flight %d (%v), push bytes %d (%v)",
					name, f, b.BytesInFlight, b.HasBIF, b.PushBytesSent, b.HasPushBytes)
			}
			if a.HasBIF {
				inFlight++
			}
			if a.HasInitialRTT {
				rtts++
			}
			a.BytesInFlight, a.HasBIF, a.PushBytesSent, a.HasPushBytes = 0, false, 0, false
			if a != b {
				t.Fatalf("%s frame %d: with bytes in flight %+v, without %+v", name, f, a, b)
			}
		}
		if inFlight == 0 || rtts == 0 {
			t.Fatalf("%s: %d segments with bytes in flight, %d with an initial RTT: nothing compared", name, inFlight, rtts)
		}
	}
}

// TestAddToSameAsAdd: AddTo, writing into one reused Result, gives every
// segment of real lossy captures the Result Add returns, note included,
// and leaves the Segment it was given as it was.
func TestAddToSameAsAdd(t *testing.T) {
	for _, name := range []string{"lo-bulk-loss.pcap", "lo-short-conns-loss.pcap", "lo-ipv6-loss.pcap", "lo-reset.pcap"} {
		segs, frames := analysedFrames(t, name)
		byValue, inPlace := analysis.New(analysis.Options{}), analysis.New(analysis.Options{})
		var r analysis.Result // reused: nothing of one segment's may stay for the next
		flagged := 0
		for _, f := range frames {
			s := segs[f].seg
			want := byValue.Add(s)
			in := s
			inPlace.AddTo(&in, &r)
			if r != want || r.Note.String() != want.Note.String() {
				t.Fatalf("%s frame %d: AddTo %+v, Add %+v", name, f, r, want)
			}
			if !slices.Equal(in.SACK, s.SACK) || in.Seq != s.Seq || in.Flags != s.Flags || in.Len != s.Len {
				t.Fatalf("%s frame %d: AddTo changed its segment", name, f)
			}
			if want.Flags != 0 {
				flagged++
			}
		}
		if name != "lo-reset.pcap" && flagged == 0 {
			t.Fatalf("%s: no segment flagged", name)
		}
	}
}

// analysedFrames reads a shipped capture's segments and the frames the
// analysis takes, in capture order.
func analysedFrames(t *testing.T, name string) (map[int]capturedSegment, []int) {
	t.Helper()
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
	return segs, frames
}
