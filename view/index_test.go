package view

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/replay"
	"github.com/tcpscope/tcpscope/tcpstate"
)

// TestIndexAgreesWithReplay builds the index of several captures and
// checks every frame's record and note against a straight replay: the
// same relative numbers, stream, flags, severity, the frame it refers to,
// and the note word for word (with the state changes); and that the frame
// read again at its offset is the frame.
func TestIndexAgreesWithReplay(t *testing.T) {
	for _, name := range []string{"lo-bulk-loss.pcap", "zeek-tcp-retransmit-fast009.pcap", "lo-mixed.pcapng", "zeek-tcp-ssh-dups.pcap", "pcapplusplus-many_interfaces-1.pcapng"} {
		path := "../pcaps/" + name
		x, err := Build(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if err := x.Wait(context.Background()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fr, err := OpenFrames(path)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := os.Open(path)
		src, err := replay.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		pl := pipeline.NewWith(src, analysis.New(analysis.Options{}), pipeline.Options{States: &tcpstate.Tracker{}})
		n := 0
		for {
			it, err := pl.NextRef()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
			rec, ok := x.Rec(n)
			if !ok {
				t.Fatalf("%s: frame %d not indexed", name, n)
			}
			if it.Analyzed {
				r := &it.Result
				want := r.Note.String()
				want = string(render.AppendStates([]byte(want), it.States, want != "", false, render.Theme{}))
				if got := x.Note(n); got != want {
					t.Errorf("%s #%d: note %q, replay says %q", name, n, got, want)
				}
				ref := r.Note.Original()
				if ref == 0 {
					ref = r.DupAckFrame
				}
				if ref == 0 {
					ref = r.AcksFrame
				}
				if rec.Seq != r.Seq || rec.Ack != r.Ack || rec.Win != r.Win || int(rec.Stream) != r.Stream ||
					rec.Flags != r.Flags || rec.Severity != r.Severity || int(rec.Ref) != ref {
					t.Errorf("%s #%d: record %+v, replay %+v (ref %d)", name, n, rec, *r, ref)
				}
			}
			again, err := fr.Read(n, rec.Off)
			if err != nil || string(again.Data) != string(it.Frame.Data) || !again.Meta.Time.Equal(it.Frame.Meta.Time) {
				t.Errorf("%s #%d: read again at %d: %v", name, n, rec.Off, err)
			}
		}
		f.Close()
		fr.Close()
		if x.Len() != n {
			t.Errorf("%s: indexed %d frames, replay read %d", name, x.Len(), n)
		}
	}
}

// TestNotesAcrossBlocks checks the compressed note blocks on a capture
// larger than one block: notes before, at and after block edges.
func TestNotesAcrossBlocks(t *testing.T) {
	path := t.TempDir() + "/s.pcap"
	writeSynthetic(t, path, 3*noteBlockLen+17, 5)
	x, err := Build(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, noteBlockLen, noteBlockLen + 1, 2 * noteBlockLen, 3*noteBlockLen + 17, 5} {
		note := x.Note(n)
		if note == "" {
			t.Errorf("#%d: no note", n)
		}
	}
	if got := x.Note(1); !strings.Contains(got, "handshake 1/3") {
		t.Errorf("#1: %q", got)
	}
	if x.Note(3*noteBlockLen+18) != "" {
		t.Errorf("a note past the last frame")
	}
}

// TestFitColumns: columns leave from the right, the meaning first, and
// the host value with its ntohs/ntohl never does.
func TestFitColumns(t *testing.T) {
	rows := []fieldRow{{cells: [nCols]string{"38", "4 bytes", "4a dc e7 00", "Sequence Number", "ntohl(4a dc e7 00) = 1255991040", "15195210", "number of the first payload byte in the sender's byte stream"}}}
	for _, c := range []struct {
		width int
		gone  []int
	}{
		{200, nil},
		{110, []int{colMeaning}},
		{85, []int{colMeaning, colNoNtoh}},
		{75, []int{colMeaning, colNoNtoh, colWidth}},
		{40, []int{colMeaning, colNoNtoh, colWidth, colRaw}},
	} {
		show, _ := fitColumns(rows, c.width)
		for i := range show {
			want := true
			for _, g := range c.gone {
				if g == i {
					want = false
				}
			}
			if show[i] != want {
				t.Errorf("width %d: column %q shown=%v, want %v", c.width, colHeads[i], show[i], want)
			}
		}
		if !show[colValue] {
			t.Errorf("width %d: the host value (ntohs/ntohl) was dropped", c.width)
		}
	}
}
