package pipeline_test

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/replay"
)

// TestWithPayloadSameAsFill: for every frame of every shipped capture,
// read by a pipeline set up as follow's (heads only, payloads later), the
// payload WithPayload lends is the one Fill copies into the item; where the
// payload reaches past the copied head of a mapped file it is lent from the
// file (the item is left unfilled), and the captures must have such frames.
func TestWithPayloadSameAsFill(t *testing.T) {
	files, _ := filepath.Glob("../pcaps/*.pcap*")
	lent, frames := 0, 0
	for _, path := range files {
		if filepath.Ext(path) == ".xz" || filepath.Ext(path) == ".zst" {
			continue
		}
		for _, parallel := range []bool{false, true} {
			open := func() (*pipeline.Pipeline, func()) {
				f, err := replay.Open(path, nil)
				if err != nil {
					return nil, nil
				}
				pl := pipeline.NewWith(f, analysis.New(analysis.Options{}), pipeline.Options{
					Parallel: parallel, AnalysisStage: parallel, DecodeLate: true,
					HeadersOnly: true, LazyPayload: true,
					Decode: decode.DecodeOptions{SkipChecksums: true},
				})
				return pl, func() { pl.Close(); f.Close() }
			}
			viewed, done1 := open()
			if viewed == nil {
				continue // not a capture replay reads
			}
			filled, done2 := open()
			for n := 1; ; n++ {
				a, errA := viewed.NextRef()
				b, errB := filled.NextRef()
				if errA != nil || errB != nil {
					if !errors.Is(errA, io.EOF) && (errA == nil) != (errB == nil) {
						t.Errorf("%s: frame %d: %v, with Fill %v", path, n, errA, errB)
					}
					break
				}
				frames++
				p := &a.Packet
				past := a.Frame.Tail.Off > 0 && p.PayloadOffset() >= 0 && p.PayloadOffset()+len(p.Payload) > a.Frame.Tail.Off
				var got []byte
				called := false
				if err := viewed.WithPayload(a, func(d []byte) { got, called = bytes.Clone(d), true }); err != nil {
					t.Fatalf("%s: frame %d: WithPayload: %v", path, n, err)
				}
				if err := filled.Fill(b); err != nil {
					t.Fatalf("%s: frame %d: Fill: %v", path, n, err)
				}
				if !called || !bytes.Equal(got, b.Packet.Payload) {
					t.Fatalf("%s: frame %d: WithPayload lent %d bytes % x..., Fill gave %d % x...", path, n, len(got), got[:min(16, len(got))], len(b.Packet.Payload), b.Packet.Payload[:min(16, len(b.Packet.Payload))])
				}
				if past {
					lent++
					if a.Frame.Tail.Off == 0 {
						t.Fatalf("%s: frame %d: WithPayload filled the item instead of lending", path, n)
					}
				}
			}
			done1()
			done2()
		}
	}
	t.Logf("%d frames, %d lent", frames, lent)
	if frames < 10000 || lent < 1000 {
		t.Errorf("%d frames, %d payloads lent from past their heads: the captures no longer exercise it", frames, lent)
	}
}
