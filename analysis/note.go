package analysis

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/tcpscope/tcpscope/internal/decimal"
)

// Note is the plain-language annotation of one segment. It holds only the
// few numbers the words are made from, captured when the segment was
// analysed, and writes the words when asked (String, AppendTo): formatting a
// sentence per segment with fmt cost about six allocations, and most notes
// of a million-packet replay into `stats`, a filter or --stream are never
// shown. A Note is a plain value: it stays valid after later segments, and
// its text is the same whenever it is written.
//
// Words are chosen for a student: "client" is the side that sent the first
// SYN (or received the first SYN-ACK); with no handshake in the capture it
// is the side with the higher port, and the note says it is a guess.
type Note struct {
	set bool // made by the analyzer (the zero Note writes nothing)

	// The verdicts of the Result.
	flags                  Flags
	dupAckNum, dupAckFrame int
	win                    uint32
	acksFrame              int
	ackRTT                 time.Duration
	hasAckRTT              bool

	// The segment.
	segFlags         uint8
	sackPerm         bool
	seq, ack         uint32 // raw
	baseSeq          uint32 // the sender's base, for relative byte ranges
	segLen           int
	mss, wscale      int
	frame            int
	src              netip.AddrPort
	who, other       string // role of the sender and of the receiver
	guessed, dropped bool   // no handshake seen; some state was dropped

	// Facts about the connection at that segment.
	reused                   bool // a new connection on the pair of reusedStream
	reusedStream             int
	origFrame                int
	origAfter                time.Duration // since the original transmission
	dupAcks                  int
	expected                 uint32
	ackedSeq, prevAck        uint32
	prevAckSet               bool
	fwdSawSYN, revSawSYN     bool
	fwdFinFrame, revFinFrame int
	establishes              bool // the third packet of the handshake
	irtt                     time.Duration
	syns                     uint16        // SYNs the connection has seen so far
	sinceFirstSYN            time.Duration // on the handshake's third packet
	peerZeroWindow           bool          // the receiver's last advertised window was 0
}

// note captures in n what the annotation of one segment needs (in place: a
// Note is 272 bytes, and one is made for every segment). It reads the
// analysis result and the connection state; the only state it changes is
// the connection's "established" mark, set by the handshake's third packet
// so that exactly one segment says so.
//
// n must be zero: it is the Result's, which AddTo has just cleared. It is
// set field by field, not cleared again: a composite literal built the
// whole Note in a temporary and copied it (2 % of replay's instructions),
// and a second clear was 0.5 %.
func note(n *Note, c *conn, fwd, rev *flow, s *Segment, r *Result, x *facts, reused *conn) {
	n.set = true
	n.flags, n.dupAckNum, n.dupAckFrame, n.win = r.Flags, r.DupAckNum, r.DupAckFrame, r.Win
	n.acksFrame, n.ackRTT, n.hasAckRTT = r.AcksFrame, r.AckRTT, r.HasAckRTT
	n.segFlags, n.sackPerm, n.seq, n.ack, n.baseSeq = s.Flags, s.SACKPerm, s.Seq, s.Ack, fwd.baseSeq
	n.segLen, n.mss, n.wscale, n.frame, n.src = s.Len, s.MSS, s.WScale, s.Frame, s.Src
	n.who, n.other = c.role(s.Src), c.role(s.Dst)
	n.guessed, n.dropped = !c.clientSet, r.StateDropped || fwd.dropped || rev.dropped
	n.origFrame, n.dupAcks, n.expected = x.origFrame, x.dupAcks, x.expected
	n.ackedSeq, n.prevAck, n.prevAckSet = x.ackedSeq, x.prevAck, x.prevAckSet
	n.fwdSawSYN, n.revSawSYN, n.fwdFinFrame, n.revFinFrame = fwd.sawSYN, rev.sawSYN, fwd.finFrame, rev.finFrame
	n.irtt, n.syns, n.peerZeroWindow = c.irtt, c.life.SYNs, rev.window == 0
	if reused != nil {
		n.reused, n.reusedStream = true, reused.stream
	}
	if x.origFrame != 0 {
		n.origAfter = s.Time.Sub(x.origTime)
	}
	if s.Flags&(SYN|RST) == 0 && s.Flags&ACK != 0 && !c.established && c.synAckSeen && c.hasIRTT && r.AcksFrame != 0 {
		c.established = true
		n.establishes = true
		if c.life.FirstSYN != 0 {
			n.sinceFirstSYN = time.Duration(s.Time.UnixNano() - c.life.FirstSYN)
		}
	}
}

// String returns the note's text; "" for the zero Note.
func (n Note) String() string {
	if !n.set {
		return ""
	}
	var buf [160]byte
	return string(n.AppendTo(buf[:0]))
}

// Sender names the role of the segment's sender, "client" or "server",
// and whether that was decided by the handshake (the SYN's sender is the
// client) rather than guessed from the ports. "" for the zero Note.
func (n *Note) Sender() (role string, fromHandshake bool) {
	if !n.set {
		return "", false
	}
	return n.who, !n.guessed
}

// Original is the frame that first carried the data a retransmission (or
// an out-of-order segment, or a resent SYN/FIN) sends again: the frame its
// note names ("retransmission of #23"); 0 when there is none or it is not
// known. tcpscope view's r key jumps to it.
func (n *Note) Original() int { return n.origFrame }

// IsZero reports whether n is the zero Note (no analysis, nothing to say).
func (n *Note) IsZero() bool { return !n.set }

// AppendTo appends the note's text to b and returns the extended buffer;
// with a buffer of sufficient capacity it allocates nothing. The zero Note
// appends nothing.
//
// The text is always printable UTF-8 without a double quote, a backslash
// or a control character: it is made only of this file's literals,
// numbers, durations, addresses and the words "client" and "server",
// never of bytes from the packet. A JSON string holds it as it is, so the
// JSON renderer writes it between quotes without checking each byte (that
// check was 3 % of replay --json's instructions). TestNoteLiteralsPlain
// holds this file's literals to it, and the analyzer's fuzz target every
// note it makes; a note that ever quotes packet bytes must drop this
// promise and the renderer's shortcut (render.JSON.Segment) with it.
func (n *Note) AppendTo(b []byte) []byte {
	if !n.set {
		return b
	}
	start := len(b)
	// sep starts the next part: "; " after any earlier one.
	sep := func(b []byte) []byte {
		if len(b) > start {
			b = append(b, "; "...)
		}
		return b
	}
	rel := n.seq - n.baseSeq

	// The verdicts first: they are what a student should notice.
	switch {
	case n.flags&ReusedPorts != 0 && n.reused:
		b = append(sep(b), "new connection on the same ports as stream "...)
		b = decimal.AppendInt(b, int64(n.reusedStream))
	case n.flags&ReusedPorts != 0:
		b = append(sep(b), "SYN-ACK with a new ISN on the ports of this connection (ports reused)"...)
	}
	switch {
	case n.flags&FastRetransmission != 0:
		b = append(sep(b), "fast retransmission after "...)
		b = decimal.AppendInt(b, int64(n.dupAcks))
		b = append(b, " duplicate ACKs"...)
	case n.flags&SpuriousRetransmission != 0:
		b = append(sep(b), "spurious retransmission: "...)
		b = n.appendResent(b, rel)
		if n.segLen > 1 || n.segFlags&(SYN|FIN) != 0 && n.segLen > 0 {
			b = append(b, " were already acknowledged"...)
		} else {
			b = append(b, " was already acknowledged"...)
		}
	case n.flags&Retransmission != 0 && n.origFrame != 0:
		b = append(sep(b), "retransmission of #"...)
		b = decimal.AppendInt(b, int64(n.origFrame))
		b = append(b, ": "...)
		b = n.appendResent(b, rel)
		b = append(b, " sent again after "...)
		b = appendHuman(b, n.origAfter)
		if n.segFlags&(SYN|ACK) == SYN {
			b = append(b, " without a SYN-ACK"...)
		} else {
			b = append(b, " without an ACK"...)
		}
	case n.flags&Retransmission != 0:
		b = append(sep(b), "retransmission: "...)
		b = n.appendResent(b, rel)
		b = append(b, " sent again"...)
	case n.flags&OutOfOrder != 0 && n.origFrame != 0:
		// Wireshark calls a resend that comes within one round trip of
		// the newest data "out-of-order"; in fact these bytes were sent
		// before, in origFrame.
		b = append(sep(b), "out-of-order (Wireshark's word): "...)
		b = n.appendResent(b, rel)
		b = append(b, " of #"...)
		b = decimal.AppendInt(b, int64(n.origFrame))
		b = append(b, " sent again "...)
		b = appendHuman(b, n.origAfter)
		b = append(b, " later, within one round trip"...)
	case n.flags&OutOfOrder != 0:
		b = append(sep(b), "out of order: older data arriving after newer data"...)
	}
	if n.flags&LostSegment != 0 {
		b = append(sep(b), "previous segment not captured: "...)
		if missing := n.seq - n.expected; missing == 1 {
			b = append(b, "1 byte before this one is missing"...)
		} else {
			b = decimal.AppendUint(b, uint64(missing))
			b = append(b, " bytes before this one are missing"...)
		}
	}
	if n.flags&AckLostSegment != 0 {
		b = append(sep(b), "acknowledges data the capture never saw"...)
	}
	if n.flags&DuplicateAck != 0 {
		b = append(sep(b), "duplicate ACK #"...)
		b = decimal.AppendInt(b, int64(n.dupAckNum))
		b = append(b, " of #"...)
		b = decimal.AppendInt(b, int64(n.dupAckFrame))
	}
	if n.flags&ZeroWindowProbe != 0 {
		b = append(sep(b), "zero window probe: 1 byte to test whether the "...)
		b = append(b, n.other...)
		b = append(b, " has room again"...)
	}
	if n.flags&ZeroWindowProbeAck != 0 {
		b = append(sep(b), "answer to the zero window probe: still no room"...)
	}
	if n.flags&ZeroWindow != 0 {
		b = append(sep(b), "zero window: receiver has no room"...)
	}
	if n.flags&WindowFull != 0 {
		b = append(sep(b), "receiver window is full"...)
	}
	if n.flags&WindowUpdate != 0 {
		b = append(sep(b), "window update: "...)
		b = append(b, n.who...)
		b = append(b, " can now receive "...)
		b = appendCount(b, int(n.win), " byte", " bytes")
	}
	if n.flags&KeepAlive != 0 && n.peerZeroWindow {
		// Linux probes a zero window with an empty segment one byte below
		// the next sequence number, which Wireshark (and so the flag) calls
		// a keep-alive; what it does here is ask whether the window opened.
		b = append(sep(b), "window probe: "...)
		b = append(b, n.who...)
		b = append(b, " asks whether the zero window has opened (Wireshark: keep-alive)"...)
	} else if n.flags&KeepAlive != 0 {
		b = append(sep(b), "keep-alive: "...)
		b = append(b, n.who...)
		b = append(b, " checks that the connection is still there"...)
	}
	if n.flags&KeepAliveAck != 0 {
		b = append(sep(b), "keep-alive answered"...)
	}

	// Then what the segment does in the life of the connection.
	flags := n.segFlags
	switch {
	case flags&SYN != 0 && flags&ACK == 0:
		b = append(sep(b), "handshake 1/3: "...)
		b = append(b, n.who...)
		b = append(b, " asks to connect ("...)
		b = n.appendSYNOptions(b)
		b = append(b, ')')
	case flags&SYN != 0:
		b = append(sep(b), "handshake 2/3: "...)
		b = append(b, n.who...)
		b = append(b, " accepts (SYN-ACK, "...)
		b = n.appendSYNOptions(b)
		b = append(b, ')')
	case flags&RST != 0:
		b = append(sep(b), "connection reset by "...)
		b = n.src.AppendTo(b)
		if n.revSawSYN && !n.fwdSawSYN {
			b = append(b, " (port closed)"...)
		} else {
			b = append(b, " ("...)
			b = append(b, n.who...)
			b = append(b, ')')
		}
	case flags&FIN != 0:
		step := byte('1')
		if n.revFinFrame != 0 && n.revFinFrame < n.frame {
			step = '3'
		}
		b = append(sep(b), n.who...)
		b = append(b, " closes its side (FIN "...)
		b = append(b, step, '/', '4', ')')
	}
	if n.establishes && n.syns > 1 && n.sinceFirstSYN > n.irtt {
		// The SYN was resent: the client waited from its first SYN.
		b = append(sep(b), "handshake 3/3: connection established "...)
		b = appendHuman(b, n.sinceFirstSYN)
		b = append(b, " after the first SYN (SYN sent "...)
		b = decimal.AppendInt(b, int64(n.syns))
		b = append(b, " times; "...)
		b = appendHuman(b, n.irtt)
		b = append(b, " after the last)"...)
	} else if n.establishes {
		b = append(sep(b), "handshake 3/3: connection established in "...)
		b = appendHuman(b, n.irtt)
	} else if flags&ACK != 0 && n.revFinFrame != 0 && n.acksFrame == n.revFinFrame {
		step := byte('2')
		if n.fwdFinFrame != 0 && n.fwdFinFrame < n.revFinFrame {
			step = '4'
		}
		b = append(sep(b), "acknowledges the "...)
		b = append(b, n.other...)
		b = append(b, "'s FIN ("...)
		b = append(b, step, '/', '4', ')')
	} else if n.acksFrame != 0 && flags&SYN == 0 {
		acked := n.ack - n.ackedSeq
		if n.prevAckSet && seqGT(n.ack, n.prevAck) {
			acked = n.ack - n.prevAck
		}
		b = append(sep(b), "acks "...)
		b = appendCount(b, int(acked), " byte", " bytes")
		b = append(b, " sent in #"...)
		b = decimal.AppendInt(b, int64(n.acksFrame))
		if n.hasAckRTT {
			b = append(b, " (rtt "...)
			b = appendHuman(b, n.ackRTT)
			b = append(b, ')')
		}
	}
	if n.segLen > 0 && n.flags&(anyRetransmission|ZeroWindowProbe|KeepAlive) == 0 {
		b = appendCount(sep(b), n.segLen, " byte of data", " bytes of data")
	}
	if len(b) == start {
		if flags&ACK != 0 {
			b = append(b, "ACK, nothing new to acknowledge"...)
		} else {
			b = append(b, "segment with no data"...)
		}
	}
	if n.guessed {
		b = append(b, "; (no handshake seen: client guessed from the higher port)"...)
	}
	if n.dropped {
		b = append(b, "; (some analysis state was dropped to bound memory)"...)
	}
	return b
}

// role names the end at ep: "client" or "server". Without a SYN or SYN-ACK
// the client is guessed to be the end with the higher port (clients
// usually pick an ephemeral port above the server's well-known one).
func (c *conn) role(ep netip.AddrPort) string {
	client := c.client
	if !c.clientSet {
		client = GuessClient(c.ends[0], c.ends[1])
	}
	if c.side(ep) == client {
		return "client"
	}
	return "server"
}

// appendSYNOptions describes a SYN's ISN and options, e.g.
// "ISN 3405691582, MSS 65495, wscale 7, SACK ok".
func (n *Note) appendSYNOptions(b []byte) []byte {
	b = append(b, "ISN "...)
	b = decimal.AppendUint(b, uint64(n.seq))
	if n.mss >= 0 {
		b = append(b, ", MSS "...)
		b = decimal.AppendInt(b, int64(n.mss))
	}
	if n.wscale >= 0 {
		b = append(b, ", wscale "...)
		b = decimal.AppendInt(b, int64(n.wscale))
	}
	if n.sackPerm {
		b = append(b, ", SACK ok"...)
	}
	if n.segLen > 0 {
		b = appendCount(append(b, ", "...), n.segLen, " byte of data", " bytes of data")
	}
	return b
}

// appendResent names what a resent segment carried: "the SYN", "the
// SYN-ACK", "the FIN", "bytes 0–99", "bytes 0–99 and the FIN", "byte 5".
func (n *Note) appendResent(b []byte, rel uint32) []byte {
	switch {
	case n.segFlags&SYN != 0 && n.segFlags&ACK != 0 && n.segLen == 0:
		return append(b, "the SYN-ACK"...)
	case n.segFlags&SYN != 0 && n.segLen == 0:
		return append(b, "the SYN"...)
	case n.segFlags&FIN != 0 && n.segLen == 0:
		return append(b, "the FIN"...)
	}
	if n.segFlags&SYN != 0 {
		rel++ // the SYN takes sequence number 0; its data starts at 1
	}
	if n.segLen == 1 {
		b = append(b, "byte "...)
	} else {
		b = append(b, "bytes "...)
	}
	b = appendByteRange(b, rel, n.segLen)
	if n.segFlags&FIN != 0 {
		b = append(b, " and the FIN"...)
	}
	return b
}

// appendCount writes "1 byte" or "N bytes" (one and many are the two
// suffixes).
func appendCount(b []byte, n int, one, many string) []byte {
	b = decimal.AppendInt(b, int64(n))
	if n == 1 {
		return append(b, one...)
	}
	return append(b, many...)
}

// appendByteRange writes relative bytes [from, from+n) as "from–to".
func appendByteRange(b []byte, from uint32, n int) []byte {
	b = decimal.AppendUint(b, uint64(from))
	if n <= 0 {
		return b
	}
	b = append(b, "–"...)
	return decimal.AppendUint(b, uint64(from+uint32(n)-1))
}

// appendHuman writes a duration with a unit a student reads at a glance:
// "41 µs", "3.2 ms", "204 ms", "1.5 s".
func appendHuman(b []byte, d time.Duration) []byte {
	switch {
	case d < 0:
		return appendHuman(append(b, '-'), -d)
	case d < time.Microsecond:
		return append(decimal.AppendInt(b, d.Nanoseconds()), " ns"...)
	case d < time.Millisecond:
		return append(decimal.AppendInt(b, d.Microseconds()), " µs"...)
	case d < 10*time.Millisecond:
		return append(strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 1, 64), " ms"...)
	case d < time.Second:
		return append(decimal.AppendInt(b, d.Milliseconds()), " ms"...)
	default:
		return append(strconv.AppendFloat(b, d.Seconds(), 'f', 1, 64), " s"...)
	}
}
