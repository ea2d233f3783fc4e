package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/decode"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/pipeline"
)

// Block is a SACK block in the relative sequence numbers of the data it
// acknowledges: bytes [Left, Right) arrived although earlier ones did not.
type Block struct{ Left, Right uint32 }

// Segment is one TCP segment of a session, kept for drawing: the header
// fields a diagram shows, in relative numbers, and the analyzer's verdict.
type Segment struct {
	Frame int
	Time  time.Time
	Dir   int   // 0: sent by Session.Ends[0] (the first sender); 1: by Ends[1]
	Flags uint8 // TCP header flags (analysis.SYN, .ACK, …)

	Seq, Ack uint32 // relative sequence and acknowledgement numbers
	Len      int    // payload length as sent (may exceed the captured bytes)
	Win      uint32 // advertised window after scaling
	SACK     []Block

	Verdict       analysis.Flags
	Conn          analysis.ConnEvents
	Severity      analysis.Severity
	Note          string
	AckRTT        time.Duration
	HasAckRTT     bool
	AcksFrame     int
	BytesInFlight uint32
	HasBIF        bool

	ord, ford int // place among the stream's segments, and its flagged ones (Keep.Spread)
}

// Session is one connection (one tcp.stream) gathered from a capture.
type Session struct {
	Stream int
	// Ends are the two endpoints; Ends[0] sent the first segment seen (Wireshark's
	// "Node 0"), which is the client when the capture holds the SYN.
	Ends     [2]netip.AddrPort
	Start    time.Time // timestamp of the capture's first frame: times are shown from it
	Segments []Segment
	// Follow holds the reassembled byte streams when LoadOptions.Follow was set.
	Follow *Follower
	// Total counts the stream's segments, Segments holds those kept (all
	// unless LoadOptions.Keep bounds them): with Keep.Head/Tail, Elided
	// were left out after the first Head; with Keep.Spread, one unflagged
	// segment in Stride is kept, and one flagged segment in FlaggedStride
	// (1 while they fit in half of Keep.Spread).
	Total, Elided, Stride, FlaggedStride int
	ElidedAfter                          int // Segments[:ElidedAfter] came before the elided ones
	// Frames counts every frame read, for progress and for the "no such
	// stream" message.
	Frames  int
	Streams int // how many streams the capture holds
}

// Roles names the two directions for a reader: Ends[0] sent the first
// segment, which is the client when the capture starts with the SYN.
func (s *Session) Roles() [2]string {
	if len(s.Segments) > 0 && s.Segments[0].Flags&0x12 == 0x12 {
		return [2]string{"server", "client"} // the capture starts at the SYN-ACK
	}
	return [2]string{"client", "server"}
}

// LoadOptions selects what Load keeps.
type LoadOptions struct {
	Stream int  // the tcp.stream to gather
	Follow bool // also reassemble the payload (Session.Follow)
	// Progress, when set, is called every few thousand frames with the
	// number read so far (the command draws a progress bar from it).
	Progress func(frames int)
	// Keep bounds the segments kept in Session.Segments, so that a stream
	// of any length fits in bounded memory; the zero value keeps them all.
	Keep Keep
	// OnChunk, with Follow, receives each piece of the reassembled stream
	// as soon as it is in order, and the Follower keeps none of them (the
	// Session is the one being loaded: Ends, Start and the first segment
	// are set). An error stops Load and is returned.
	OnChunk func(s *Session, c Chunk) error
	// Select, when set, is asked about every frame, in order (a display
	// filter counts time from the frame before); only the stream's
	// segments it selects are gathered (and counted in Total). The
	// analysis and the reassembly still see them all.
	Select func(it *pipeline.Item) bool
	// ReadAhead reads and decodes on a second goroutine, a batch of
	// frames ahead (pipeline.Options.Parallel): for a file, where no
	// frame waits for the next to arrive.
	ReadAhead bool
	// NoNotes leaves every Segment.Note empty: the analysis then makes no
	// note for any frame of the capture (analysis.Options.NoNotes), which
	// a caller that shows none (follow) need not pay for: 3 % of follow's
	// time on bench/bulk.pcap.
	NoNotes bool
}

// Keep says which segments Load keeps.
type Keep struct {
	// Head and Tail keep the first Head and the last Tail segments (a
	// ladder of a long stream: its start and its end).
	Head, Tail int
	// Spread keeps at most about Spread segments spread over the whole
	// stream (a graph: what a picture of its size can show). Segments that
	// the analysis flagged, or that carry SYN, FIN or RST, are kept first.
	Spread int
}

func (k Keep) all() bool { return k.Head == 0 && k.Tail == 0 && k.Spread == 0 }

// ErrNoStream is returned (wrapped) when the capture has no such stream.
var ErrNoStream = errors.New("no such stream")

// noSegmentsError is Load's error for a stream that only a TCP header
// quoted in an ICMP error (or cut short) names: errors.Is finds
// ErrNoStream in it, so callers treat it as a stream not there.
type noSegmentsError struct{ msg string }

func (e *noSegmentsError) Error() string        { return e.msg }
func (e *noSegmentsError) Is(target error) bool { return target == ErrNoStream }

// Load reads src to the end and gathers the segments of one stream. Stream
// numbers are the analyzer's (Wireshark's tcp.stream), so the whole capture
// must be read: a later SYN may reuse ports and start a new stream.
func Load(ctx context.Context, src frame.Source, o LoadOptions) (*Session, error) {
	// No checksum verdict is kept in a Session, so none is computed unless
	// a display filter may ask for one; only the stream's payloads are
	// read, with Follow (pipeline.WithPayload), and none without (graph, ladder).
	//
	// Only the stream asked for is analysed (analysis.Options.Focus); the
	// others are just numbered, which is what reading them is for. Not with
	// a display filter: it is asked about every frame, and may look at any
	// frame's analysis (and time_delta_displayed counts from the frame it
	// matched before).
	an := analysis.New(analysis.Options{NoNotes: o.NoNotes, Focus: o.Select == nil, Stream: o.Stream})
	pl := pipeline.NewWith(src, an, pipeline.Options{
		Parallel:      o.ReadAhead,
		AnalysisStage: o.ReadAhead,
		Decode:        decode.DecodeOptions{SkipChecksums: o.Select == nil},
		HeadersOnly:   o.Select == nil,
		LazyPayload:   o.Follow,
		// Decoding on the analysing goroutine leaves the reader only the
		// copying of heads; with it on the reader, the reader was the
		// slowest stage (follow's payloads are read by a third, from the
		// second window): bulk.pcap follow 0.87 → 0.79 s, graph 0.83 →
		// 0.61, ladder 0.82 → 0.59 (medians of 5-7 alternating runs).
		DecodeLate: true,
	})
	defer pl.Close()
	s := &Session{Stream: o.Stream, Stride: 1}
	var emitErr error
	if o.Follow {
		s.Follow = &Follower{}
		if o.OnChunk != nil {
			s.Follow.Emit = func(c Chunk) {
				if emitErr == nil {
					emitErr = o.OnChunk(s, c)
				}
			}
		}
	}
	// The segment whose payload follow's Add takes next: the closure is
	// made once, not once a segment (it escapes through WithPayload).
	var add struct {
		dir, frame int
		t          time.Time
		seq, ack   uint32
		hasAck     bool
		length     int
	}
	addPayload := func(payload []byte) {
		s.Follow.Add(add.dir, add.frame, add.t, add.seq, add.ack, add.hasAck, payload, add.length)
	}
	// follow hands the segment of it (sent by side dir) to the Follower.
	follow := func(it *pipeline.Item, dir int) error {
		r, p := &it.Result, &it.Packet
		add.dir, add.frame, add.t, add.seq, add.ack = dir, it.Frame.Meta.Number, it.Frame.Meta.Time, r.Seq, r.Ack
		add.hasAck, add.length = p.TCP.Flags()&analysis.ACK != 0, p.PayloadLen
		if err := pl.WithPayload(it, addPayload); err != nil {
			return err
		}
		return emitErr
	}
	var keep keeper
	found := false
	quotedIn := 0      // the first frame naming the stream without a segment of it
	var base [2]uint32 // raw − relative sequence number per direction, for SACK blocks
	var baseSet [2]bool
	for {
		if s.Frames&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if o.Progress != nil && s.Frames > 0 {
				o.Progress(s.Frames)
			}
		}
		it, err := pl.NextRef()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if s.Frames == 0 {
			s.Start = it.Frame.Meta.Time
		}
		s.Frames++
		selected := o.Select == nil || o.Select(it)
		if !it.Analyzed {
			if it.Located && it.Result.Stream == o.Stream && quotedIn == 0 {
				quotedIn = it.Frame.Meta.Number
			}
			continue
		}
		r := &it.Result
		if r.Stream+1 > s.Streams {
			s.Streams = r.Stream + 1
		}
		if r.Stream != o.Stream {
			continue
		}
		p := &it.Packet
		src := p.SrcAddrPort()
		if !found {
			s.Ends = [2]netip.AddrPort{src, p.DstAddrPort()}
			found = true
		}
		dir := 0
		if src != s.Ends[0] {
			dir = 1
		}
		t := p.TCP
		if o.Keep.Spread == 0 && o.Keep.Tail == 0 && !o.Keep.all() && len(s.Segments) >= o.Keep.Head {
			// Nothing more to keep (follow): only the payload matters.
			if selected {
				s.Total++
			}
			if s.Follow != nil {
				if err := follow(it, dir); err != nil {
					return nil, err
				}
			}
			continue
		}
		if !baseSet[dir] {
			base[dir], baseSet[dir] = t.Seq()-r.Seq, true
		}
		seg := Segment{
			Frame: it.Frame.Meta.Number, Time: it.Frame.Meta.Time, Dir: dir, Flags: t.Flags(),
			Seq: r.Seq, Ack: r.Ack, Len: p.PayloadLen, Win: r.Win,
			Verdict: r.Flags, Conn: r.Conn, Severity: r.Severity, Note: r.Note.String(),
			AckRTT: r.AckRTT, HasAckRTT: r.HasAckRTT, AcksFrame: r.AcksFrame,
			BytesInFlight: r.BytesInFlight, HasBIF: r.HasBIF,
		}
		if baseSet[1-dir] {
			// SACK blocks name the other direction's bytes.
			for i := 0; i < p.Options.NSACK; i++ {
				b := p.Options.SACK[i]
				seg.SACK = append(seg.SACK, Block{b.Left - base[1-dir], b.Right - base[1-dir]})
			}
		}
		if selected {
			s.Total++
			if o.Keep.all() {
				s.Segments = append(s.Segments, seg)
			} else {
				keep.add(s, o.Keep, seg)
			}
		}
		if s.Follow != nil {
			if err := follow(it, dir); err != nil {
				return nil, err
			}
		}
	}
	keep.finish(s, o.Keep)
	if !found && quotedIn > 0 {
		// Wireshark numbers a stream for a TCP header quoted in an ICMP
		// error (or cut short) even when none of its segments was
		// captured: there is nothing to follow or draw.
		return nil, &noSegmentsError{fmt.Sprintf("stream %d has no TCP segment of its own: only a TCP header quoted in an ICMP error, or cut short, names it (frame %d; replay --stream %d shows it)", o.Stream, quotedIn, o.Stream)}
	}
	if !found {
		return nil, fmt.Errorf("%w %d: the capture holds %d TCP %s, numbered from 0", ErrNoStream, o.Stream, s.Streams, plural(s.Streams, "stream", "streams"))
	}
	return s, nil
}

// plural picks the word for n things.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// keeper bounds Session.Segments as LoadOptions.Keep says.
type keeper struct {
	tail     []Segment // ring of the last Keep.Tail segments
	tailNext int
	n        int     // segments offered
	flagged  int     // flagged segments kept (Spread)
	fStride  int     // one flagged segment in fStride is kept (Spread)
	fn       int     // flagged segments offered
	last     Segment // the last segment offered, when not kept (Spread)
	lastSet  bool
}

// flagged segments are what a reader of a graph looks for.
func notable(g *Segment) bool {
	return g.Verdict != 0 || g.Flags&(analysis.SYN|analysis.FIN|analysis.RST) != 0
}

func (k *keeper) add(s *Session, o Keep, g Segment) {
	k.n++
	switch {
	case o.Spread > 0:
		if k.fStride == 0 {
			k.fStride = 1
		}
		g.ord = k.n
		if notable(&g) {
			k.fn++
			g.ford = k.fn
			if g.ford%k.fStride != 0 {
				return
			}
		} else if g.ord != 1 && g.ord%s.Stride != 0 {
			k.last, k.lastSet = g, true // kept if it turns out to be the last
			return
		}
		k.lastSet = false
		s.Segments = append(s.Segments, g)
		for len(s.Segments) >= o.Spread {
			k.thin(s, o)
		}
	case len(s.Segments) < o.Head:
		s.Segments = append(s.Segments, g)
	case o.Tail > 0:
		if len(k.tail) < o.Tail {
			k.tail = append(k.tail, g)
		} else {
			k.tail[k.tailNext] = g
			k.tailNext = (k.tailNext + 1) % o.Tail
			s.Elided++
		}
	default:
		s.Elided++
	}
}

// thin halves what Spread keeps: unflagged segments first (their stride
// doubles), flagged ones too once they fill half of it.
func (k *keeper) thin(s *Session, o Keep) {
	flagged := 0
	for i := range s.Segments {
		if notable(&s.Segments[i]) {
			flagged++
		}
	}
	if flagged*2 >= o.Spread {
		k.fStride *= 2
	} else {
		s.Stride *= 2
	}
	kept := s.Segments[:0]
	for _, g := range s.Segments {
		if g.ord == 1 || notable(&g) && g.ford%k.fStride == 0 || !notable(&g) && g.ord%s.Stride == 0 {
			kept = append(kept, g)
		}
	}
	clear(s.Segments[len(kept):])
	s.Segments = kept
}

// finish appends the kept tail, oldest first.
func (k *keeper) finish(s *Session, o Keep) {
	s.ElidedAfter = len(s.Segments)
	s.Segments = append(s.Segments, k.tail[k.tailNext:]...)
	s.Segments = append(s.Segments, k.tail[:k.tailNext]...)
	s.FlaggedStride = max(k.fStride, 1)
	if k.lastSet {
		// The graph's time axis ends at the stream's last segment.
		s.Segments = append(s.Segments, k.last)
	}
}
