package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
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
	// Frames counts every frame read, for progress and for the "no such
	// stream" message.
	Frames  int
	Streams int // how many streams the capture holds
}

// LoadOptions selects what Load keeps.
type LoadOptions struct {
	Stream int  // the tcp.stream to gather
	Follow bool // also reassemble the payload (Session.Follow)
	// Progress, when set, is called every few thousand frames with the
	// number read so far (the command draws a progress bar from it).
	Progress func(frames int)
}

// ErrNoStream is returned (wrapped) when the capture has no such stream.
var ErrNoStream = errors.New("no such stream")

// Load reads src to the end and gathers the segments of one stream. Stream
// numbers are the analyzer's (Wireshark's tcp.stream), so the whole capture
// must be read: a later SYN may reuse ports and start a new stream.
func Load(ctx context.Context, src frame.Source, o LoadOptions) (*Session, error) {
	pl := pipeline.New(src, analysis.New(analysis.Options{}))
	s := &Session{Stream: o.Stream}
	if o.Follow {
		s.Follow = &Follower{}
	}
	var it pipeline.Item
	found := false
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
		err := pl.Next(&it)
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
		if !it.Analyzed {
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
		s.Segments = append(s.Segments, seg)
		if s.Follow != nil {
			s.Follow.Add(dir, seg.Frame, seg.Time, r.Seq, r.Ack, seg.Flags&analysis.ACK != 0, p.Payload, p.PayloadLen)
		}
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
