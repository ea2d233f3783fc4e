package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/capture"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/dfilter"
	"github.com/tcpscope/tcpscope/explain"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/pipeline"
	"github.com/tcpscope/tcpscope/render"
	"github.com/tcpscope/tcpscope/replay"
	"github.com/tcpscope/tcpscope/session"
	"github.com/tcpscope/tcpscope/tcpstate"
)

// showOptions selects what the segment printer shows.
type showOptions struct {
	JSON               bool
	Absolute           bool // raw sequence numbers (tcpdump -S)
	Color              bool
	Count              int  // stop after this many TCP segments; 0 = all
	Stream             int  // only this stream; -1 = all
	FromFrame, ToFrame int  // frame range, inclusive; 0 = open
	Summary            bool // print the per-connection summary at the end
	// MaxStreams is the analyzer's connection-table limit (--max-streams):
	// 0 = analysis.DefaultMaxStreams, negative = none.
	MaxStreams int
	// Explain prints the field-by-field header view (tcpscope decode's)
	// under every segment line; text mode only.
	Explain bool
	// HeadersOnly: frames were captured headers-only on purpose, so a cut
	// payload is not marked on every text line (see render.Text).
	HeadersOnly bool
	// Hook, when set, is called for every shown segment (the demo uses it
	// to interleave socket calls).
	Hook func(it *pipeline.Item)
	// BeforeSummary, when set, is called once the segments are done, before
	// the summary (capture --trace prints the calls made after the last
	// segment there).
	BeforeSummary func()
	// Filter, when set, selects frames (a tcpdump expression). It sees
	// every frame; the analyzer still sees all of them, so stream numbers
	// and verdicts are those of the whole capture, as in Wireshark with a
	// display filter.
	Filter func(f frame.Frame) (bool, error)
	// Display, when set, selects TCP segments by a Wireshark display
	// filter (-Y), after the analysis: it sees every frame, in order.
	Display *dfilter.Filter
	// Pace, when set, holds each shown segment back until its time comes
	// (replay --speed).
	Pace *replay.Pacer
	// Step, when set, shows one segment per key press (replay --step).
	Step *replay.Stepper
	// File: src is a file, so reading and decoding may run ahead on a
	// goroutine of their own (pipeline.NewParallel), overlapping with the
	// analysis and the printing on a second core.
	File bool
	// LineBuffered writes each line at once (a live capture on a
	// terminal); otherwise output is written in 64 KiB blocks, as tcpdump
	// does without -l.
	LineBuffered bool
	// tcpdump's habits: the time column's format (-t … -ttttt), the
	// payload under each line in hex and ASCII (-X) or ASCII (-A), the IP
	// header fields (-v), the link-layer header (-e). Text mode only.
	Time              render.TimeFormat
	HexASCII, ASCII   bool
	Verbose, LinkHead bool
	// Save, when set, receives every frame shown (replay -w): the frame's
	// record as read, with its note as a pcapng packet comment.
	Save *saver
	// Width is the terminal's width for the compact layout (0: full lines),
	// Glyphs spells → ▸ µ in ASCII (see render.Text.ASCII).
	Width  int
	Glyphs bool
}

// selects reports whether the options show only some connections, whose
// summary alone is then printed.
func (o *showOptions) selects() bool { return o.Filter != nil || o.Stream >= 0 || o.Display != nil }

// readsPayload reports whether anything shown reads a segment's payload
// bytes (or a frame's bytes past its headers): the hex and ASCII dumps, the
// field view, a tcpdump filter (it may look anywhere), a display filter on
// tcp.payload, the frames written out, the demo's hook. Otherwise a file's
// frames are copied headers only (pipeline.Options.HeadersOnly: checksums
// are still verified from the reader's sum of the rest).
func (o *showOptions) readsPayload() bool {
	return o.HexASCII || o.ASCII || o.Explain || o.Filter != nil || o.Save != nil || o.Step != nil || o.Hook != nil ||
		o.Display != nil && o.Display.Uses("tcp.payload")
}

// badChecksumsOnly reports whether all that is shown of a TCP checksum is
// whether it is bad (the text line's mark): not the JSON lines, -v, the
// field view or a display filter on the verdict, which tell "ok" from
// "partial" (see decode.DecodeOptions.BadChecksumsOnly).
func (o *showOptions) badChecksumsOnly() bool {
	return !o.JSON && !o.Verbose && !o.Explain && o.Step == nil && (o.Display == nil || !o.Display.Uses("tcp.checksum.status"))
}

// showSegments runs the pipeline over src and prints every TCP segment.
// name labels errors (the file or interface). Everything readable before a
// source error is printed; the error is returned after. When ctx ends the
// loop (Ctrl-C, also while pacing or stepping) the summary of what was read
// is still printed and nil returned: the caller decides what that means.
func showSegments(ctx context.Context, name string, src frame.Source, o showOptions, stdout, stderr io.Writer) (err error) {
	an := analysis.New(analysis.Options{MaxStreams: o.MaxStreams})
	var states *tcpstate.Tracker
	if !o.JSON {
		// Each end's TCP state, for the notes and the summary (the JSON
		// lines keep to their contract).
		states = &tcpstate.Tracker{Max: o.MaxStreams}
	}
	var pl *pipeline.Pipeline
	if o.File {
		// Reading, analysis and the lines on three goroutines; each batch
		// is decoded by the reader or by the analysing goroutine, whichever
		// is idle (with -Y showing a few lines, the analysing one; with
		// every line shown, the reader). (With the file read through a
		// memory map, reading got cheap enough that moving the analysis to
		// the reading side, as was done for JSON, made that side the
		// slower one: replay --json on bench/bulk.pcap took 1.45 s that
		// way, 1.05 s this way.)
		pl = pipeline.NewWith(src, an, pipeline.Options{Parallel: true, AnalysisStage: true, DecodeWhereIdle: true, States: states, HeadersOnly: !o.readsPayload(),
			Decode: decode.DecodeOptions{BadChecksumsOnly: o.badChecksumsOnly()}})
		defer pl.Close()
	} else {
		pl = pipeline.NewWith(src, an, pipeline.Options{States: states})
	}
	// Output goes through a buffer (one write per 64 KiB, not per line)
	// unless someone watches it line by line: pacing, stepping, the demo's
	// interleaved socket calls, a live capture on a terminal. A file's
	// lines go out 256 KiB at a time: into a pipe, each write wakes the
	// reader, and a quarter as many made replay --json | cat of make
	// bench's big.pcap 9 % faster, and its text lines 12 % (medians of 9
	// alternating runs); a live capture keeps 64 KiB, so lines are not
	// held back longer.
	if o.Step == nil && o.Pace == nil && o.Hook == nil && !o.LineBuffered {
		size := 64 << 10
		if o.File {
			size = 256 << 10
		}
		bw := bufio.NewWriterSize(stdout, size)
		stdout = bw
		defer func() {
			if ferr := bw.Flush(); err == nil && ferr != nil {
				err = ferr
			}
		}()
	}
	evictionSaid := false
	var links linkSkips // frames of link types decode does not read
	frames := 0
	var skips pipeline.Skips
	text := &render.Text{W: stdout, Theme: render.NewTheme(o.Color), Absolute: o.Absolute, HeadersOnly: o.HeadersOnly, Time: o.Time,
		Width: o.Width, ASCII: o.Glyphs}
	js := &render.JSON{W: stdout}
	shown := 0
	var srcErr error
	var buf bytes.Buffer
	if o.Step != nil {
		// Segments are rendered into buf and handed to the stepper.
		text.W, js.W = &buf, &buf
	}
	// shown marks the streams a selection (--stream, a filter) showed, one
	// bit per stream: a capture may have millions of streams.
	var shownBits []uint64
	quit := false
	eof := false // the source was read to its end
	for n := 0; !quit; n++ {
		if n&255 == 0 && ctx.Err() != nil {
			break
		}
		it, err := pl.NextRef() // no per-frame copy of the (large) item
		if err != nil {
			if !errors.Is(err, io.EOF) {
				srcErr = fmt.Errorf("%s: %w", name, err)
			} else {
				eof = true
			}
			break
		}
		m := it.Frame.Meta
		frames++
		if n == 0 {
			text.Start, js.Start = m.Time, m.Time
		}
		// The display filter sees every frame (frame.time_delta counts
		// from the previous one, shown or not).
		displayed := o.Display == nil || o.Display.Match(it)
		if o.FromFrame > 0 && m.Number < o.FromFrame || o.ToFrame > 0 && m.Number > o.ToFrame {
			continue
		}
		if o.Filter != nil {
			ok, err := o.Filter(it.Frame)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		if !displayed {
			continue
		}
		if !evictionSaid && it.EvictedStreams > 0 {
			// Said once, when it starts, on stderr so a live capture shows
			// it at once; the summary gives the final count.
			evictionSaid = true
			fmt.Fprintf(stderr, "tcpscope: frame %d: more than %d connections; forgetting finished ones first, then the least recently used, to bound memory (--max-streams)\n", m.Number, an.MaxStreams())
		}
		p := &it.Packet
		if p.TCP == nil && len(p.TCPPartial) == 0 && !p.HasICMP {
			skips.Add(m.Number, p)
			var werr error
			switch {
			case it.DecodeErr == nil:
			case unsupported(m.Link, it.DecodeErr):
				links.add(stderr, name, m)
			case o.Stream >= 0:
				// Not part of any stream.
			case o.JSON && (p.IPVersion != 0 || ipLayerErr(it.DecodeErr)):
				// A frame Wireshark shows with its error (a bogus IP
				// header length) is shown, not dropped.
				werr = js.Problem(m, decode.Message(it.DecodeErr))
			case o.JSON:
				// Not even IP (an empty record): a note on stderr, as
				// the lines are for what may be TCP.
				fmt.Fprintf(stderr, "tcpscope: %s: frame %d: %v\n", name, m.Number, it.DecodeErr)
			default:
				werr = text.Problem(m, it.DecodeErr)
			}
			if werr != nil {
				return werr
			}
			continue
		}
		var r *analysis.Result
		if it.Analyzed || it.Located {
			r = &it.Result
			if o.Stream >= 0 && r.Stream != o.Stream {
				continue
			}
		} else if o.Stream >= 0 {
			continue
		}
		if r != nil && o.selects() {
			for len(shownBits) <= r.Stream/64 {
				shownBits = append(shownBits, 0)
			}
			shownBits[r.Stream/64] |= 1 << (r.Stream % 64)
		}
		if o.Pace != nil {
			if o.Pace.Wait(ctx, m.Time) != nil {
				break
			}
		}
		if o.Hook != nil {
			o.Hook(it)
		}
		buf.Reset()
		var werr error
		if o.JSON {
			werr = js.Segment(m, p, r)
		} else {
			werr = text.SegmentWith(m, p, r, it.States)
			if werr == nil {
				werr = tcpdumpExtras(text.W, &o, it)
			}
			if werr == nil && o.Explain {
				// The field-by-field header view under the line (in step
				// mode it becomes part of the page a key press shows).
				werr = explain.Write(text.W, text.Theme, explain.MetaOf(it), p)
			}
		}
		if werr != nil {
			return werr // stdout closed (e.g. piped into head): stop quietly
		}
		if o.Save != nil {
			if err := o.Save.write(it.Frame, r, it.States); err != nil {
				return err
			}
		}
		if o.Step != nil {
			stream := -1
			if r != nil {
				stream = r.Stream
			}
			shownSeg := replay.Shown{Frame: m.Number, Stream: stream, Text: buf.String()}
			if !o.Explain && !o.JSON {
				// The header view for the x key (with --explain it is
				// already part of Text).
				var xb bytes.Buffer
				if err := explain.Write(&xb, text.Theme, explain.MetaOf(it), p); err == nil {
					shownSeg.Explain = xb.String()
				}
			}
			switch err := o.Step.Show(ctx, shownSeg); {
			case errors.Is(err, replay.ErrQuit):
				quit = true
			case ctx.Err() != nil:
				quit = true
			case err != nil:
				return err
			}
		}
		shown++
		if o.Count > 0 && shown >= o.Count {
			break
		}
	}
	if o.Step != nil && !quit && ctx.Err() == nil && srcErr == nil {
		if err := o.Step.Finish(ctx); err != nil && ctx.Err() == nil {
			return err
		}
	}
	if o.Display != nil && shown == 0 && srcErr == nil {
		noMatch(stderr, o.Display)
	}
	if o.Step != nil && o.Step.Rows > 0 {
		fmt.Fprint(stdout, "\n") // leave the status line before the summary
	}
	// The analyzer is the reading goroutine's until it has stopped.
	pl.Close()
	if line := skips.Line(); line != "" {
		fmt.Fprintf(stderr, "tcpscope: %s: %s\n", name, line)
	}
	if err := links.report(stderr, name, frames, eof); err != nil {
		return err
	}
	if eof && o.Stream >= an.Streams() {
		// Checked only once the whole capture is read: a stream may start
		// in its last frame. Exit 2, as follow and graph do.
		return fmt.Errorf("%s: %w %d: the capture holds %s, numbered from 0", name, session.ErrNoStream, o.Stream, nOf(an.Streams(), "TCP stream"))
	}
	if eof && shown == 0 && (o.Filter != nil || o.FromFrame > 0 || o.ToFrame > 0 || o.Stream >= 0) {
		// As tshark: nothing printed is not an error, but say why.
		fmt.Fprintf(stderr, "tcpscope: %s: no TCP segment matched the selection\n", name)
	}
	if o.BeforeSummary != nil {
		o.BeforeSummary()
	}
	if o.Summary {
		w := stdout
		if o.JSON {
			// The segments first, then the summary on stderr, buffered
			// too: it has a few lines per connection, and there may be
			// a hundred thousand connections.
			if bw, ok := stdout.(*bufio.Writer); ok {
				bw.Flush()
			}
			bw := bufio.NewWriterSize(stderr, 64<<10)
			defer bw.Flush()
			w = bw
		}
		th := render.NewTheme(o.Color && !o.JSON)
		if o.selects() {
			// Summarise only the connections the selection showed,
			// with their whole-capture counts.
			var kept []analysis.Summary
			for x := range an.EachSummary() {
				if x.Stream/64 < len(shownBits) && shownBits[x.Stream/64]&(1<<(x.Stream%64)) != 0 {
					kept = append(kept, x)
				}
			}
			render.SummaryWith(w, th, kept, an.DroppedSegments(), states)
		} else {
			render.SummarySeq(w, th, an.SummaryCount(), an.EachSummary(), an.DroppedSegments(), states)
		}
		if n := an.EvictedStreams(); n > 0 {
			fmt.Fprintf(w, "note: %s forgotten (finished ones first, then the least recently used, over --max-streams %d) and are not summarised; a later segment on one was analysed without its earlier state\n", wereForgotten(n), an.MaxStreams())
		}
	}
	return srcErr
}

// tcpdumpExtras writes what tcpdump's -e, -v, -X and -A add under a line.
func tcpdumpExtras(w io.Writer, o *showOptions, it *pipeline.Item) error {
	p := &it.Packet
	if o.LinkHead {
		if err := render.LinkLine(w, it.Frame.Meta, it.Frame.Data, p.Link); err != nil {
			return err
		}
	}
	if o.Verbose {
		if err := render.VerboseLine(w, p); err != nil {
			return err
		}
	}
	switch {
	case o.HexASCII:
		return render.HexASCII(w, p.Payload)
	case o.ASCII:
		return render.ASCII(w, p.Payload)
	}
	return nil
}

// saver writes the frames replay shows to -w FILE, created on the first
// frame (its link type is the file's).
type saver struct {
	path  string
	force bool
	out   io.Writer // for "-": standard output
	w     *capture.Writer
	link  frame.LinkType
	note  []byte
}

func (s *saver) write(f frame.Frame, r *analysis.Result, states []tcpstate.Change) error {
	if s.w == nil {
		var err error
		if s.path == "-" {
			s.w, err = capture.NewStreamWriter(s.out, f.Meta.Link, 0)
		} else {
			s.w, err = capture.Create(s.path, f.Meta.Link, 0, s.force)
		}
		if err != nil {
			return err
		}
		s.link = f.Meta.Link
	}
	if f.Meta.Link != s.link {
		return fmt.Errorf("frame %d: link type %s, but %s holds %s frames (one link type per output file)", f.Meta.Number, f.Meta.Link, s.path, s.link)
	}
	s.note = render.AppendComment(s.note[:0], r, states, nil, 0)
	comment := string(s.note)
	return s.w.WriteCommented(f, comment)
}

// close completes the file; it says how many frames went in.
func (s *saver) close(stderr io.Writer) error {
	if s.w == nil {
		return nil
	}
	if err := s.w.Close(); err != nil {
		return err
	}
	if s.path != "-" {
		fmt.Fprintf(stderr, "tcpscope: wrote %s to %s\n", nOf(s.w.Count(), "frame"), s.path)
	}
	return nil
}

// wereForgotten is "1 connection was" or "N connections were".
func wereForgotten(n int) string {
	if n == 1 {
		return "1 connection was"
	}
	return nOf(n, "connection") + " were"
}

// linkSkips counts the frames of each link type decode does not read, in
// the order first seen (a pcapng file may mix interfaces; a handful of
// types at most, and capped so a crafted file cannot grow it).
type linkSkips struct {
	types []struct {
		lt frame.LinkType
		n  int
	}
	other int // frames of types beyond the cap
}

// add counts frame m, of a link type decode does not read, and names the
// type on stderr at its first frame.
func (s *linkSkips) add(stderr io.Writer, name string, m frame.Meta) {
	for i := range s.types {
		if s.types[i].lt == m.Link {
			s.types[i].n++
			return
		}
	}
	if len(s.types) == 16 {
		s.other++
		return
	}
	s.types = append(s.types, struct {
		lt frame.LinkType
		n  int
	}{m.Link, 1})
	fmt.Fprintf(stderr, "tcpscope: %s: frame %d: link type %s is not one tcpscope decodes; its frames are skipped\n", name, m.Number, linkName(m.Link))
}

// unsupported reports whether a frame was not decoded because decode does
// not read its link type (a pcapng custom block, LinkNone, is no frame).
// The frame's link type is asked only of a frame with an error: stats
// asks of every frame, and the whole Meta by value was a copy every time.
func unsupported(link frame.LinkType, decodeErr error) bool {
	return decodeErr != nil && errors.Is(decodeErr, decode.ErrUnsupported) && link != frame.LinkNone
}

// report says, at the end of a file of frames frames (read to its end when
// eof), how many of each link type were skipped. A file in which no frame
// could be read is an error (exit 1), as a file that is not a capture at
// all: nothing of it can be shown.
func (s *linkSkips) report(stderr io.Writer, name string, frames int, eof bool) error {
	all := eof && frames > 0 && s.total() == frames
	if all && len(s.types) == 1 {
		what := "all " + nOf(frames, "frame")
		if frames == 1 {
			what = "its only frame"
		}
		return fmt.Errorf("%s: %s skipped: tcpscope does not decode link type %s", name, what, linkName(s.types[0].lt))
	}
	for _, l := range s.types {
		fmt.Fprintf(stderr, "tcpscope: %s: %s of link type %s skipped\n", name, nOf(l.n, "frame"), linkName(l.lt))
	}
	if all {
		return fmt.Errorf("%s: no frame of a link type tcpscope decodes", name)
	}
	return nil
}

func (s *linkSkips) total() int {
	t := s.other
	for _, l := range s.types {
		t += l.n
	}
	return t
}

// linkName is a link type's number and its name in the tcpdump.org list:
// "147 (USER0)".
func linkName(lt frame.LinkType) string {
	n := lt.String()
	if strings.HasPrefix(n, "LINKTYPE_") {
		return strconv.Itoa(int(lt)) + " (not in the tcpdump.org list of link types)"
	}
	return strconv.Itoa(int(lt)) + " (" + n + ")"
}

// ipLayerErr reports whether a decode error is the IP header's (the frame
// was IP, and may have been TCP).
func ipLayerErr(err error) bool {
	var e *decode.Error
	return errors.As(err, &e) && strings.HasPrefix(e.Layer, "ip")
}
