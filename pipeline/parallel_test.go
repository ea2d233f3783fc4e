package pipeline_test

import (
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/replay"
)

// TestParallelSameItems: the parallel pipeline yields, for every shipped
// capture, exactly the items of the sequential one (frames, bytes, decode
// errors, analysis and notes) and the same final error.
func TestParallelSameItems(t *testing.T) {
	files, _ := filepath.Glob("../pcaps/*.pcap*")
	if len(files) < 50 {
		t.Fatalf("only %d captures", len(files))
	}
	for _, path := range files {
		if f, err := replay.Open(path, nil); err != nil {
			continue // not even a header to read
		} else {
			f.Close()
		}
		seq, seqErr := collect(t, path, pipeline.Options{})
		for _, o := range []pipeline.Options{{Parallel: true}, {Parallel: true, AnalysisStage: true}} {
			par, parErr := collect(t, path, o)
			if errString(seqErr) != errString(parErr) {
				t.Errorf("%s: error %v sequential, %v with %+v", path, seqErr, parErr, o)
			}
			if len(seq) != len(par) {
				t.Errorf("%s: %d items sequential, %d with %+v", path, len(seq), len(par), o)
				continue
			}
			for i := range seq {
				if !reflect.DeepEqual(seq[i], par[i]) {
					t.Errorf("%s: item %d differs with %+v:\n%+v\n%+v", path, i, o, seq[i], par[i])
					break
				}
			}
		}
	}
}

// view is what a caller sees of one item.
type view struct {
	Meta      any
	Data      string
	DecodeErr string
	Analyzed  bool
	Result    analysis.Result
	Note      string
	Payload   int
}

func collect(t *testing.T, path string, o pipeline.Options) ([]view, error) {
	f, err := replay.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	an := analysis.New(analysis.Options{})
	pl := pipeline.NewWith(f, an, o)
	defer pl.Close()
	var out []view
	var it pipeline.Item
	for {
		err := pl.Next(&it)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, view{it.Frame.Meta, string(it.Frame.Data), errString(it.DecodeErr), it.Analyzed,
			it.Result, it.Result.Note.String(), it.Packet.PayloadLen})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestParallelCloseEarly: stopping after a few items and closing ends the
// reading goroutine without reading the rest.
func TestParallelCloseEarly(t *testing.T) {
	for _, stage := range []bool{false, true} {
		f, err := replay.Open("../pcaps/zeek-http-1000-requests-one-dropped-response.pcap", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		pl := pipeline.NewWith(f, analysis.New(analysis.Options{}), pipeline.Options{Parallel: true, AnalysisStage: stage})
		var it pipeline.Item
		for i := 0; i < 3; i++ {
			if err := pl.Next(&it); err != nil {
				t.Fatal(err)
			}
		}
		pl.Close()
		pl.Close() // twice is harmless
	}
}
