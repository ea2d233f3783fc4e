// Package sendreplay replays the client side of a captured TCP connection
// against a live server and says whether the server answers as it did in
// the capture: the quickest way to check that a rebuilt or reconfigured
// server still speaks the same protocol, byte for byte.
//
// The client's bytes are sent in the captured order and chunking (one write
// per captured client segment, retransmitted bytes skipped), and each write
// waits until the server has sent as many bytes as the captured client had
// acknowledged when it sent that segment, so a request-response dialogue
// keeps its turns. The server's replies are compared with the captured
// server→client payload, reassembled in sequence order.
//
// It never prints except to the io.Writer given to Report.
package sendreplay

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"time"

	"github.com/tcpscope/tcpscope/analysis"
	"github.com/tcpscope/tcpscope/frame"
	"github.com/tcpscope/tcpscope/pipeline"
)

// Chunk is one write the client made: the new bytes of one captured client
// segment.
type Chunk struct {
	Frame int           // the captured segment's frame number
	At    time.Duration // since the connection's first captured segment
	Data  []byte
	// Acked is how many of the server's reply bytes the client had
	// acknowledged when it sent this segment: the replay waits for that
	// many before writing, so each request follows the answer it followed.
	Acked int
}

// Session is the captured connection to replay.
type Session struct {
	Stream  int // the stream replayed (as Wireshark's tcp.stream)
	Streams int // how many streams the capture has

	Client, Server netip.AddrPort
	// ClientBySYN is false when the capture lacks the SYN, so the client
	// was taken to be the sender of the connection's first segment.
	ClientBySYN bool

	Chunks        []Chunk
	Retransmitted int // client bytes skipped because they were sent before

	// ClientFIN is set when the client closed its side; FINAt and FINAcked
	// place the close as Chunk.At and Chunk.Acked place a write.
	ClientFIN bool
	FINAt     time.Duration
	FINAcked  int

	// Reply is the server's payload in sequence order, up to the first byte
	// the capture does not have (ReplyGap is then set).
	Reply    []byte
	ReplyGap bool
	// ServerClosed is set when the server sent FIN or RST in the capture.
	ServerClosed bool
}

// ClientBytes is the number of bytes the client will send.
func (s *Session) ClientBytes() int {
	n := 0
	for _, c := range s.Chunks {
		n += len(c.Data)
	}
	return n
}

// seg is one captured segment of a stream, kept until the stream is chosen.
type seg struct {
	frame int
	at    time.Time
	src   netip.AddrPort
	dst   netip.AddrPort
	flags uint8
	seq   uint32
	ack   uint32
	data  []byte
	short bool // payload cut by the capture's snaplen
}

type stream struct {
	segs      []seg
	synSender netip.AddrPort
	hasSYN    bool
}

// Load reads the capture from src and extracts connection number want, or
// with want < 0 the first connection whose client sent data.
func Load(src frame.Source, want int) (*Session, error) {
	pl := pipeline.New(src, analysis.New(analysis.Options{}))
	var streams []*stream
	var it pipeline.Item
	for {
		err := pl.Next(&it)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if !it.Analyzed {
			continue
		}
		r := &it.Result
		for len(streams) <= r.Stream {
			streams = append(streams, &stream{})
		}
		st := streams[r.Stream]
		sg := it.Segment
		if want >= 0 && r.Stream != want {
			continue
		}
		s := seg{frame: sg.Frame, at: sg.Time, src: sg.Src, dst: sg.Dst, flags: sg.Flags, seq: sg.Seq, ack: sg.Ack}
		if sg.Len > 0 {
			s.data = append([]byte(nil), it.Packet.Payload...)
			s.short = len(s.data) < sg.Len
		}
		if sg.Flags&analysis.SYN != 0 && sg.Flags&analysis.ACK == 0 && !st.hasSYN {
			st.synSender, st.hasSYN = sg.Src, true
		}
		st.segs = append(st.segs, s)
	}
	if len(streams) == 0 {
		return nil, errors.New("no TCP connection in the capture")
	}
	if want >= len(streams) {
		return nil, fmt.Errorf("%w %d: the capture holds %s, numbered from 0", ErrNoStream, want, plural(len(streams), "TCP stream"))
	}
	if want >= 0 {
		s, err := build(streams[want], want, len(streams))
		if err != nil {
			return nil, err
		}
		if len(s.Chunks) == 0 {
			return nil, fmt.Errorf("stream %d (%s → %s): the client sent no data, so there is nothing to send", want, s.Client, s.Server)
		}
		return s, nil
	}
	for i, st := range streams {
		s, err := build(st, i, len(streams))
		if err != nil {
			return nil, err
		}
		if len(s.Chunks) > 0 {
			return s, nil
		}
	}
	return nil, fmt.Errorf("no stream of the %s has client data to send", plural(len(streams), "stream"))
}

// build turns one stream's segments into a Session.
func build(st *stream, num, total int) (*Session, error) {
	if len(st.segs) == 0 {
		// A stream Wireshark numbers for a TCP header quoted in an ICMP
		// error, or cut short: nothing of it to send (a usage error, as a
		// stream not there).
		return nil, noSegmentsError(fmt.Sprintf("stream %d has no TCP segment of its own, only a TCP header quoted in an ICMP error or cut short (replay --stream %d shows it)", num, num))
	}
	first := st.segs[0]
	s := &Session{Stream: num, Streams: total, ClientBySYN: st.hasSYN}
	if st.hasSYN {
		s.Client = st.synSender
	} else if first.flags&(analysis.SYN|analysis.ACK) == analysis.SYN|analysis.ACK {
		s.Client = otherEnd(st, first.src) // a SYN-ACK comes from the server
	} else {
		s.Client = first.src
	}
	s.Server = otherEnd(st, s.Client)
	start := first.at

	// ref is the sequence number of each side's first payload byte (ISN+1
	// when its SYN is in the capture, else its first segment's seq), so
	// offsets count payload bytes from 0.
	var cref, sref uint32
	var cknown, sknown bool
	for _, g := range st.segs {
		fromClient := g.src == s.Client
		known, ref := &sknown, &sref
		if fromClient {
			known, ref = &cknown, &cref
		}
		if !*known {
			*ref, *known = g.seq, true
			if g.flags&analysis.SYN != 0 {
				*ref = g.seq + 1
			}
		}
	}
	off := func(seq, ref uint32) int64 { return int64(int32(seq - ref)) }

	var next int64 // client bytes sent so far
	type piece struct {
		off  int64
		data []byte
	}
	var reply []piece
	for _, g := range st.segs {
		dataOff := int64(0)
		if g.flags&analysis.SYN != 0 {
			dataOff = 1 // data on a SYN starts after the SYN's sequence number
		}
		if g.src != s.Client {
			if g.flags&(analysis.FIN|analysis.RST) != 0 {
				s.ServerClosed = true
			}
			if len(g.data) > 0 {
				if g.short {
					return nil, fmt.Errorf("stream %d: frame %d: the server's payload was cut by the capture's snapshot length; the replies cannot be compared", num, g.frame)
				}
				reply = append(reply, piece{off(g.seq, sref) + dataOff, g.data})
			}
			continue
		}
		acked := 0
		if g.flags&analysis.ACK != 0 && sknown {
			acked = int(max(off(g.ack, sref), 0))
		}
		if len(g.data) > 0 {
			if g.short {
				return nil, fmt.Errorf("stream %d: frame %d: the client's payload was cut by the capture's snapshot length; it cannot be sent", num, g.frame)
			}
			o := off(g.seq, cref) + dataOff
			end := o + int64(len(g.data))
			switch {
			case end <= next:
				s.Retransmitted += len(g.data)
			case o > next:
				return nil, fmt.Errorf("stream %d: client bytes %d–%d are missing from the capture (before frame %d), so the client's data cannot be sent faithfully", num, next, o-1, g.frame)
			default:
				s.Retransmitted += int(next - o)
				s.Chunks = append(s.Chunks, Chunk{Frame: g.frame, At: g.at.Sub(start), Data: g.data[next-o:], Acked: acked})
				next = end
			}
		}
		if g.flags&analysis.FIN != 0 && !s.ClientFIN {
			s.ClientFIN, s.FINAt, s.FINAcked = true, g.at.Sub(start), acked
		}
	}

	// Reassemble the server's bytes in sequence order; overlaps (resent
	// data) count once, and a hole ends what can be compared.
	sort.SliceStable(reply, func(i, j int) bool { return reply[i].off < reply[j].off })
	var rnext int64
	for _, p := range reply {
		end := p.off + int64(len(p.data))
		if p.off > rnext {
			s.ReplyGap = true
			break
		}
		if end > rnext {
			s.Reply = append(s.Reply, p.data[rnext-p.off:]...)
			rnext = end
		}
	}
	for i := range s.Chunks {
		s.Chunks[i].Acked = min(s.Chunks[i].Acked, len(s.Reply))
	}
	s.FINAcked = min(s.FINAcked, len(s.Reply))
	return s, nil
}

func otherEnd(st *stream, a netip.AddrPort) netip.AddrPort {
	for _, g := range st.segs {
		if g.src == a {
			return g.dst
		}
		return g.src
	}
	return netip.AddrPort{}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// noSegmentsError is build's error for a stream with no segment: errors.Is
// finds ErrNoStream in it.
type noSegmentsError string

func (e noSegmentsError) Error() string        { return string(e) }
func (e noSegmentsError) Is(target error) bool { return target == ErrNoStream }

// ErrNoStream is returned (wrapped) when --stream names a connection the
// capture does not hold: a mistake in the command line (exit 2).
var ErrNoStream = errors.New("no such stream")
