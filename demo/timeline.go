package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/explain"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/ref/sock"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/replay"
	"github.com/tcpscope/tcpscope/tcpstate"
)

// entry is one line of the timeline (a socket call, or a segment with its
// header view), rendered.
type entry struct {
	call    *sock.Event // nil for a segment
	out     *progLine   // a line a student's program printed
	frame   int         // the segment's frame number
	stream  int         // the segment's connection, -1 unknown
	text    string      // the rendered lines, newline-terminated
	explain string      // the segment's header view for the pager's x key
}

// printTimeline renders the capture with socket calls interleaved in time
// order: a call is printed before the first segment captured after it
// (see placeAt). Times count from the earliest event, call or segment, so
// none is negative. With a Pager the entries are paged; otherwise written
// as they are made.
func printTimeline(ctx context.Context, src frame.Source, events []sock.Event, lines []progLine, o Options, stdout, stderr io.Writer) error {
	sort.SliceStable(events, func(i, j int) bool { return placeAt(events[i]).Before(placeAt(events[j])) })
	labelProcesses(events)
	streams := streamsOf(src)
	th := render.NewTheme(o.Color)
	an := analysis.New(analysis.Options{})
	pl := pipeline.New(src, an)
	var buf bytes.Buffer
	strsize := o.StrSize
	if strsize <= 0 {
		strsize = sock.DefaultStrSize
	}
	text := &render.Text{W: &buf, Theme: th, StrSize: strsize, Width: o.Width, ASCII: o.ASCII}
	js := &render.JSON{W: &buf, StrSize: strsize}
	notes := NewCallNotes()
	states := newCallStates()
	start := startOf(src, events)
	text.Start, js.Start = start, start

	var entries []entry // kept only when paging
	paging := o.Pager != nil
	emit := func(e entry) error {
		if paging {
			entries = append(entries, e)
			return nil
		}
		_, err := io.WriteString(stdout, e.text)
		return err
	}
	out := &outputLines{lines: lines, th: th, json: o.JSON, stderr: stderr, emit: func(l *progLine, text string) error {
		return emit(entry{out: l, text: text})
	}}
	callEntry := func(e sock.Event) error {
		if err := out.until(placeAt(e), start); err != nil {
			return err
		}
		buf.Reset()
		note := streams.note(e, notes.Note(e))
		change, changed := states.call(e)
		var err error
		if o.JSON {
			err = js.Call(e, placeAt(e), note, strsize)
		} else {
			if changed {
				// The state the call puts its side in, after its note.
				if note != "" {
					note += "; "
				}
				note += change.String()
			}
			var details []string
			if o.Explain {
				details = e.Details(sock.HostEndian())
			}
			err = text.Call(e, placeAt(e), note, details)
		}
		if err != nil {
			return err
		}
		return emit(entry{call: &e, text: buf.String()})
	}
	next := 0
	var it pipeline.Item
	frames := 0
	for {
		if err := pl.Next(&it); err != nil {
			if !errors.Is(err, io.EOF) {
				return err
			}
			break
		}
		frames++
		m := it.Frame.Meta
		for next < len(events) && !placeAt(events[next]).After(m.Time) {
			if err := callEntry(events[next]); err != nil {
				return err
			}
			next++
		}
		if err := out.until(m.Time, start); err != nil {
			return err
		}
		if it.Packet.TCP == nil {
			continue
		}
		notes.Segment(m.Number, m.Time, &it.Packet)
		var r *analysis.Result
		stream := -1
		if it.Analyzed {
			r = &it.Result
			stream = r.Stream
		}
		var changes []tcpstate.Change
		if r != nil && !it.Packet.TCPShort {
			changes = states.segment(r, &it.Packet)
		}
		buf.Reset()
		var err error
		if o.JSON {
			err = js.Segment(m, &it.Packet, r)
		} else {
			err = text.SegmentWith(m, &it.Packet, r, changes)
			if err == nil && o.Explain {
				err = explain.Write(&buf, th, explain.MetaOf(&it), &it.Packet)
			}
		}
		if err != nil {
			return err
		}
		e := entry{frame: m.Number, stream: stream, text: buf.String()}
		if paging && !o.Explain && !o.JSON {
			var xb bytes.Buffer
			if explain.Write(&xb, th, explain.MetaOf(&it), &it.Packet) == nil {
				e.explain = xb.String()
			}
		}
		if err := emit(e); err != nil {
			return err
		}
	}
	for ; next < len(events); next++ {
		if err := callEntry(events[next]); err != nil {
			return err
		}
	}
	if err := out.until(time.Time{}, start); err != nil {
		return err
	}
	if paging {
		if err := page(ctx, o.Pager, entries, frames); err != nil {
			return err
		}
	}
	sw := stdout
	if o.JSON {
		sw = stderr
	}
	render.SummaryWith(sw, render.NewTheme(o.Color && !o.JSON), an.Summaries(), an.DroppedSegments(), &states.tr)
	return nil
}

// page shows the entries one key press at a time. The peers have finished,
// so the whole session is known: b goes back, q or Ctrl-C (a key in raw
// mode) ends paging, and the summary follows.
func page(ctx context.Context, pager func() (*replay.Stepper, func(), error), entries []entry, frames int) error {
	st, restore, err := pager()
	if err != nil {
		return err
	}
	defer restore()
	st.Total = frames
	for i, e := range entries {
		sh := replay.Shown{Frame: e.frame, Stream: e.stream, Text: e.text, Explain: e.explain}
		if e.out != nil {
			sh.Stream = -1
			sh.Label = fmt.Sprintf("step %d/%d: %s %s", i+1, len(entries), e.out.Who, e.out.Stream)
		} else if e.call != nil {
			sh.Stream = -1
			sh.Label = fmt.Sprintf("step %d/%d: %s %s", i+1, len(entries), e.call.Who, e.call.Call)
		} else {
			sh.Label = fmt.Sprintf("step %d/%d: frame %d/%d", i+1, len(entries), e.frame, frames)
			if e.stream >= 0 {
				sh.Label += fmt.Sprintf(", stream %d", e.stream)
			}
		}
		switch err := st.Show(ctx, sh); {
		case errors.Is(err, replay.ErrQuit), ctx.Err() != nil:
			st.Leave()
			return nil
		case err != nil:
			return err
		}
	}
	if err := st.Finish(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	st.Leave()
	return nil
}

// startOf is time 0 of the timeline: the earliest of the first frame and
// the first call's start. A call is placed at its start (see placeAt), which
// comes before the moment it returned, so counting from the first call's
// return made the first line negative.
func startOf(src frame.Source, events []sock.Event) time.Time {
	var start time.Time
	for _, e := range events {
		if t := placeAt(e); start.IsZero() || t.Before(start) {
			start = t
		}
	}
	if m, ok := src.(*memSource); ok && len(m.frames) > 0 {
		if t := m.frames[0].Meta.Time; start.IsZero() || t.Before(start) {
			start = t
		}
	}
	return start
}

// placeAt is where a socket call goes on the timeline. A call that makes
// the kernel send (connect, write, close, shutdown) is placed when it
// started, before the segments it caused; a call that waits for the network
// (accept, read) is placed when it returned, after the segments it waited
// for. That is the order in which the lecture tells the story.
func placeAt(e sock.Event) time.Time {
	switch e.Kind() {
	case "accept", "read", "getaddrinfo":
		return e.Time
	}
	return e.Time.Add(-e.Took)
}
