package analysis

import (
	"net/netip"
	"time"
)

// Window-scale states of a flow, as Wireshark's win_scale: a shift count
// 0…14 once known from the SYN, or one of these.
const (
	wsUnknown = -1 // no SYN seen yet: the window is shown raw
	wsNone    = -2 // the handshake showed scaling is not used
)

// maxSACKRanges is how many SACK blocks Wireshark keeps per direction
// (MAX_TCP_SACK_RANGES); a TCP header has room for at most 4 anyway.
const maxSACKRanges = 4

// flow is one direction of a connection: what its sender has done so far.
// Field names follow Wireshark's tcp_flow_t / tcp_analyze_seq_info so the
// code can be checked against packet-tcp.c.
type flow struct {
	baseSeq uint32 // ISN (or first seq − 1), for relative numbers
	baseSet bool

	nextSeq         uint32 // highest seq+len seen; 0 means unknown
	nextSeqFrame    int
	nextSeqTime     time.Time
	maxSeqToBeAcked uint32 // highest contiguous sequence number

	lastAck     uint32    // ACK field of this side's last segment
	lastAckTime time.Time // time of this side's last segment
	sentACK     bool      // this side has sent a segment with the ACK flag
	window      uint32    // last raw window; starts at 2³²−1 ("none yet")
	lastFlags   Flags     // analysis flags of this side's last segment

	dupAckNum     int // dup ACKs in a row; -1 after an "ACKed unseen segment" report
	lastNonDupAck int // frame of the last ACK that moved

	segs    unackedList // unacknowledged segments
	dropped bool        // segments were refused or forgotten
	sack    []SACKBlock // SACK blocks of this side's last segment

	winScale   int  // shift, wsUnknown or wsNone
	isFirstAck bool // between this side's SYN and its first plain ACK
	mss        int  // -1 unknown
	validBIF   bool // bytes in flight can be computed

	pushBytes   uint32 // payload since this side's last PSH (Wireshark's push_bytes_sent)
	pushSetLast bool   // the last segment had PSH: start counting again

	// For the summary and the notes.
	packets, bytes int
	isn            uint32 // raw ISN of this side's SYN, when sawSYN
	sawSYN         bool
	finFrame       int    // first FIN of this side; 0 = none
	finEnd         uint32 // sequence number just after that FIN
	finAcked       bool   // the other side acknowledged the FIN
	rstFrame       int    // first RST of this side; 0 = none
	retrans        int    // retransmissions of all kinds
	dupAcks        int
	zeroWindows    int
}

func (f *flow) init() {
	f.window = 1<<32 - 1
	f.winScale = wsUnknown
	f.mss = -1
	f.validBIF = true // cleared by a gap, set again by the other side's next ACK
}

// facts are by-products of the analysis that only the note needs.
type facts struct {
	origFrame  int // frame that first carried a retransmitted segment
	origTime   time.Time
	dupAcks    int    // dup ACKs that triggered a fast retransmission
	ackedSeq   uint32 // start of the segment named by AcksFrame
	prevAck    uint32 // this side's previous ACK field
	prevAckSet bool
	expected   uint32 // where a segment after a gap should have started
	record     bool   // Wireshark would keep an analysis record (tcp_acked) for it
}

// conn is one TCP connection (a Wireshark conversation).
type conn struct {
	stream int
	ends   [2]netip.AddrPort // ends[0] sent the first segment we saw
	flow   [2]flow           // flow[i] is what ends[i] sends

	first, last time.Time
	synTime     time.Time // time of the most recent SYN (ts_mru_syn)
	sawSYN      bool
	irtt        time.Duration // handshake RTT (ts_first_rtt)
	hasIRTT     bool
	client      int  // index into ends of the client; -1 while unknown
	clientSet   bool // client chosen from a SYN or SYN-ACK, not guessed
	synAckSeen  bool
	established bool      // the third handshake packet was seen
	life        Lifecycle // by ends index; Summaries puts the client first
	retired     bool      // segment lists freed after FIN/FIN or RST
}

// flows returns the flow sent by src and the reverse flow.
func (c *conn) flows(src netip.AddrPort) (fwd, rev *flow) {
	if src == c.ends[0] {
		return &c.flow[0], &c.flow[1]
	}
	return &c.flow[1], &c.flow[0]
}

// joins reports whether src and dst are c's two ends, either way round:
// whether keyOf(src, dst) is the key c was made for.
func (c *conn) joins(src, dst netip.AddrPort) bool {
	return src == c.ends[0] && dst == c.ends[1] || src == c.ends[1] && dst == c.ends[0]
}

// side returns 0 or 1: which end sent a segment from src.
func (c *conn) side(src netip.AddrPort) int {
	if src == c.ends[0] {
		return 0
	}
	return 1
}

// afterAnalysis does what dissect_tcp does once the sequence analysis is
// over: handshake timing, then the options (so an option affects only later
// segments), then the displayed window, connection events and counters.
func (c *conn) afterAnalysis(fwd, rev *flow, s *Segment, r *Result, x *facts) {
	flags := s.Flags
	syn, ack := flags&SYN != 0, flags&ACK != 0
	side := 0 // c.side(s.Src), told by which flow is the sender's
	if fwd != &c.flow[0] {
		side = 1
	}

	// Relative numbers and the scaled window, with the scale known before
	// this segment's own options (SYNs are never scaled).
	r.Seq = s.Seq - fwd.baseSeq
	if ack {
		r.Ack = s.Ack - rev.baseSeq
	}
	r.Win = uint32(s.Window)
	r.WinScale = int8(fwd.winScale)
	if !syn && fwd.winScale >= 0 {
		r.Win <<= uint(fwd.winScale)
	}

	c.life.Observe(side, flags, s.Time, s.Frame)

	// Handshake: remember the latest SYN; the first plain ACK after it
	// gives the initial RTT (in either direction, as Wireshark does).
	if syn && !ack {
		c.synTime = s.Time
		c.sawSYN = true
		if !c.clientSet {
			c.client, c.clientSet = side, true
		}
	}
	if syn && ack {
		c.synAckSeen = true
		if !c.clientSet {
			c.client, c.clientSet = 1-side, true
		}
	}
	if syn {
		fwd.isFirstAck = true
		if !fwd.sawSYN {
			fwd.isn, fwd.sawSYN = s.Seq, true
		}
	} else if ack {
		fwd.isFirstAck = false
	}
	if flags&(SYN|ACK) == ACK && c.sawSYN && !c.hasIRTT {
		c.irtt, c.hasIRTT = s.Time.Sub(c.synTime), true
		if c.irtt == 0 { // Wireshark stores 0 as "not yet known"
			c.hasIRTT = false
		}
	}
	// 4.0 shows initial_rtt only on segments that have an analysis record
	// (newer versions show it on every segment once known).
	if c.hasIRTT && x.record {
		r.InitialRTT, r.HasInitialRTT = c.irtt, true
	}

	// Options. The window-scale shift is clamped to 14 (RFC 7323 §2.3);
	// on a SYN, verify_tcp_window_scaling turns "no option" into "no
	// scaling" for both sides, and an option answered without one into
	// "no scaling" for this side.
	if s.WScale >= 0 {
		fwd.winScale = min(s.WScale, 14)
	}
	if syn && !s.OptionsUnseen {
		if fwd.winScale == wsUnknown {
			fwd.winScale, rev.winScale = wsNone, wsNone
		} else if ack && rev.winScale == wsNone {
			fwd.winScale = wsNone
		}
	}
	if s.MSS >= 0 {
		fwd.mss = s.MSS
	}
	// SACK blocks of this segment replace the previous ones (copied: the
	// caller's slice is not kept).
	fwd.sack = fwd.sack[:0]
	for _, b := range s.SACK {
		if len(fwd.sack) == maxSACKRanges {
			break
		}
		fwd.sack = append(fwd.sack, b)
	}

	// Connection events (tcp.connection.*) and bookkeeping for notes and
	// the summary.
	switch {
	case syn && ack:
		r.Conn |= ConnSYNACK
	case syn:
		r.Conn |= ConnSYN
	}
	if flags&FIN != 0 {
		r.Conn |= ConnFIN
	}
	if flags&RST != 0 {
		r.Conn |= ConnRST
	}
	noteEnding(fwd, rev, s)
	if ack {
		fwd.sentACK = true
	}
	fwd.packets++
	fwd.bytes += s.Len
	if r.Flags&anyRetransmission != 0 {
		fwd.retrans++
	}
	if r.Flags&DuplicateAck != 0 {
		fwd.dupAcks++
	}
	if r.Flags&ZeroWindow != 0 {
		fwd.zeroWindows++
	}
	c.last = s.Time
}

// retireKeep is how many unacknowledged segments per direction a retired
// connection may keep.
const retireKeep = 8

// maybeRetire frees the segment lists of a connection that is over: both
// FINs acknowledged, or a RST seen. The connection itself stays (small) so
// its stream number, its ports and its summary remain right; later segments
// on it are still analysed with the remaining state. Segments still listed
// at retirement are counted as dropped. It reports whether c was retired
// just now.
func (a *Analyzer) maybeRetire(c *conn) bool {
	if c.retired {
		return false
	}
	f0, f1 := &c.flow[0], &c.flow[1]
	bothFIN := f0.finAcked && f1.finAcked
	if !bothFIN && f0.rstFrame == 0 && f1.rstFrame == 0 {
		return false
	}
	c.retired = true
	for _, f := range []*flow{f0, f1} {
		// A few segments still listed (typically a retransmitted FIN
		// whose ACK is on its way) are kept, so that ACK still finds its
		// frame as in Wireshark; a long list is what retirement frees.
		if n := f.segs.len(); n > retireKeep {
			a.dropped += n
			f.dropped = true
			f.segs.clear()
		}
	}
	return true
}
