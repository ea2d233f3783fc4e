package analysis

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// note writes the plain-language annotation of one segment. It reads the
// analysis result and the connection state, and changes nothing.
//
// Words are chosen for a student: "client" is the side that sent the first
// SYN (or received the first SYN-ACK); with no handshake in the capture it
// is the side with the higher port, and the note says it is a guess.
func note(c *conn, fwd, rev *flow, s Segment, r *Result, x *facts, reused *conn) string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	who := c.role(s.Src)
	other := c.role(s.Dst)
	rel := func(seq uint32) uint32 { return seq - fwd.baseSeq }

	// The verdicts first: they are what a student should notice.
	switch {
	case r.Flags&ReusedPorts != 0 && reused != nil:
		add("new connection on the same ports as stream %d", reused.stream)
	case r.Flags&ReusedPorts != 0:
		add("SYN-ACK with a new ISN on the ports of this connection (ports reused)")
	}
	switch {
	case r.Flags&FastRetransmission != 0:
		add("fast retransmission after %d duplicate ACKs", x.dupAcks)
	case r.Flags&SpuriousRetransmission != 0:
		add("spurious retransmission: bytes %s were already acknowledged", byteRange(rel(s.Seq), s.Len))
	case r.Flags&Retransmission != 0 && x.origFrame != 0:
		add("retransmission of #%d (bytes %s) after %s without an ACK",
			x.origFrame, byteRange(rel(s.Seq), s.Len), human(s.Time.Sub(x.origTime)))
	case r.Flags&Retransmission != 0:
		add("retransmission (bytes %s)", byteRange(rel(s.Seq), s.Len))
	case r.Flags&OutOfOrder != 0:
		add("out of order: older data arriving after newer data")
	}
	if r.Flags&LostSegment != 0 {
		add("previous segment not captured: %d bytes before this one are missing", s.Seq-x.expected)
	}
	if r.Flags&AckLostSegment != 0 {
		add("acknowledges data the capture never saw")
	}
	if r.Flags&DuplicateAck != 0 {
		add("duplicate ACK #%d of #%d", r.DupAckNum, r.DupAckFrame)
	}
	if r.Flags&ZeroWindowProbe != 0 {
		add("zero window probe: 1 byte to test whether the %s has room again", other)
	}
	if r.Flags&ZeroWindowProbeAck != 0 {
		add("answer to the zero window probe: still no room")
	}
	if r.Flags&ZeroWindow != 0 {
		add("zero window: receiver has no room")
	}
	if r.Flags&WindowFull != 0 {
		add("receiver window is full")
	}
	if r.Flags&WindowUpdate != 0 {
		add("window update: %s can now receive %d bytes", who, r.Win)
	}
	if r.Flags&KeepAlive != 0 {
		add("keep-alive: %s checks that the connection is still there", who)
	}
	if r.Flags&KeepAliveAck != 0 {
		add("keep-alive answered")
	}

	// Then what the segment does in the life of the connection.
	flags := s.Flags
	switch {
	case flags&SYN != 0 && flags&ACK == 0:
		add("handshake 1/3: %s asks to connect (%s)", who, synOptions(s))
	case flags&SYN != 0:
		add("handshake 2/3: %s accepts (SYN-ACK, %s)", who, synOptions(s))
	case flags&RST != 0:
		if rev.sawSYN && !fwd.sawSYN {
			add("connection reset by %s (port closed)", s.Src)
		} else {
			add("connection reset by %s (%s)", s.Src, who)
		}
	case flags&FIN != 0:
		step := 1
		if rev.finFrame != 0 && rev.finFrame < s.Frame {
			step = 3
		}
		add("%s closes its side (FIN %d/4)", who, step)
	}
	if flags&(SYN|RST) == 0 && flags&ACK != 0 && !c.established && c.synAckSeen && c.hasIRTT && r.AcksFrame != 0 {
		c.established = true
		add("handshake 3/3: connection established in %s", human(c.irtt))
	} else if flags&ACK != 0 && rev.finFrame != 0 && r.AcksFrame == rev.finFrame {
		step := 2
		if fwd.finFrame != 0 && fwd.finFrame < rev.finFrame {
			step = 4
		}
		add("acknowledges the %s's FIN (%d/4)", other, step)
	} else if r.AcksFrame != 0 && flags&SYN == 0 {
		acked := s.Ack - x.ackedSeq
		if x.prevAckSet && seqGT(s.Ack, x.prevAck) {
			acked = s.Ack - x.prevAck
		}
		if r.HasAckRTT {
			add("acks %d bytes sent in #%d (rtt %s)", acked, r.AcksFrame, human(r.AckRTT))
		} else {
			add("acks %d bytes sent in #%d", acked, r.AcksFrame)
		}
	}
	if s.Len > 0 && r.Flags&(anyRetransmission|ZeroWindowProbe|KeepAlive) == 0 {
		add("%d bytes of data", s.Len)
	}
	if len(parts) == 0 {
		if flags&ACK != 0 {
			add("ACK, nothing new to acknowledge")
		} else {
			add("segment with no data")
		}
	}
	if !c.clientSet {
		parts = append(parts, "(no handshake seen: client guessed from the higher port)")
	}
	if r.StateDropped || fwd.dropped || rev.dropped {
		parts = append(parts, "(some analysis state was dropped to bound memory)")
	}
	return strings.Join(parts, "; ")
}

// role names the end at ep: "client" or "server". Without a SYN or SYN-ACK
// the client is guessed to be the end with the higher port (clients
// usually pick an ephemeral port above the server's well-known one).
func (c *conn) role(ep netip.AddrPort) string {
	client := c.client
	if !c.clientSet {
		client = 0
		if c.ends[1].Port() > c.ends[0].Port() {
			client = 1
		}
	}
	if c.side(ep) == client {
		return "client"
	}
	return "server"
}

// synOptions describes a SYN's ISN and options, e.g.
// "ISN 3405691582, MSS 65495, wscale 7, SACK ok".
func synOptions(s Segment) string {
	out := fmt.Sprintf("ISN %d", s.Seq)
	if s.MSS >= 0 {
		out += fmt.Sprintf(", MSS %d", s.MSS)
	}
	if s.WScale >= 0 {
		out += fmt.Sprintf(", wscale %d", s.WScale)
	}
	if s.SACKPerm {
		out += ", SACK ok"
	}
	if s.Len > 0 {
		out += fmt.Sprintf(", %d bytes of data", s.Len)
	}
	return out
}

// byteRange writes relative bytes [from, from+n) as "from–to".
func byteRange(from uint32, n int) string {
	if n <= 0 {
		return fmt.Sprintf("%d", from)
	}
	return fmt.Sprintf("%d–%d", from, from+uint32(n)-1)
}

// human writes a duration with a unit a student reads at a glance:
// "41 µs", "3.2 ms", "204 ms", "1.5 s".
func human(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + human(-d)
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}
