package render

import (
	"io"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/tcpstate"
)

// AppendComment appends a segment's note as a capture file's packet
// comment carries it: the note (with the bytes a data segment carried,
// when strsize > 0, as the demo's lines name them) and the state changes,
// as on the text line, without colour.
func AppendComment(b []byte, r *analysis.Result, states []tcpstate.Change, p *decode.Packet, strsize int) []byte {
	if r == nil {
		return b
	}
	at := len(b)
	if !r.Note.IsZero() {
		b = r.Note.AppendTo(b)
		if strsize > 0 && p != nil {
			b = AppendPayloadNote(b, p.Payload, p.PayloadLen, strsize)
		}
	}
	return AppendStates(b, states, len(b) > at, false, Theme{})
}

// Annotator analyses frames one at a time, as they are handed to it, and
// returns each TCP segment's comment (AppendComment). It has an analyzer
// and a state tracker of its own, so a recorder can annotate the frames it
// writes without waiting for the display, which analyses the same frames
// again on its own.
type Annotator struct {
	// StrSize > 0 names the bytes of data segments, as Text.StrSize.
	StrSize int
	one     oneFrame
	pl      *pipeline.Pipeline
	note    []byte
}

// NewAnnotator returns an Annotator with a fresh analyzer.
func NewAnnotator() *Annotator {
	a := &Annotator{}
	a.pl = pipeline.NewWith(&a.one, analysis.New(analysis.Options{}), pipeline.Options{States: &tcpstate.Tracker{}})
	return a
}

// Note analyses f and returns its comment; "" for a frame without TCP.
func (a *Annotator) Note(f frame.Frame) string {
	a.one.f, a.one.ok = f, true
	it, err := a.pl.NextRef()
	if err != nil || !it.Analyzed {
		return ""
	}
	a.note = AppendComment(a.note[:0], &it.Result, it.States, &it.Packet, a.StrSize)
	return string(a.note)
}

// oneFrame is a Source holding at most the one frame put in it.
type oneFrame struct {
	f  frame.Frame
	ok bool
}

func (o *oneFrame) Next() (frame.Frame, error) {
	if !o.ok {
		return frame.Frame{}, io.EOF
	}
	o.ok = false
	return o.f, nil
}
