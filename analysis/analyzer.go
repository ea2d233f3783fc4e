package analysis

import (
	"net/netip"
	"time"

	"github.com/google/btree"
)

// DefaultMaxUnacked is Wireshark's TCP_MAX_UNACKED_SEGMENTS: how many
// not-yet-acknowledged segments it remembers per direction. Beyond that it
// stops recording (a capture that never shows the ACKs would otherwise grow
// without bound), and so do we, so the results still match tshark.
const DefaultMaxUnacked = 10000

// Options tunes an Analyzer. The zero value gives Wireshark's defaults.
type Options struct {
	// MaxUnacked caps each direction's list of unacknowledged segments;
	// 0 means DefaultMaxUnacked. Lower it to bound memory harder, at the
	// cost of acks_frame/ack_rtt/bytes_in_flight once the cap is reached.
	MaxUnacked int
	// MaxStreams caps how many connections the analyzer keeps state for at
	// once; 0 means DefaultMaxStreams, a negative value means no limit. When
	// a new connection would exceed it, the least recently used one is
	// forgotten (EvictedStreams counts them), so a flood of connections
	// cannot exhaust memory.
	MaxStreams int
	// NoNotes leaves every Result.Note zero, for a caller that never shows
	// notes (stats): capturing a note's facts is a tenth of the analysis.
	// The verdicts are the same.
	NoNotes bool
	// NoBytesInFlight leaves BytesInFlight and PushBytesSent unset (HasBIF
	// and HasPushBytes false), for a caller that shows neither (stats):
	// bytes in flight are the span of the sender's unacknowledged
	// segments, found by walking them all on every data segment, as
	// Wireshark does (3 % of stats's instructions on bench/big.pcap).
	// Every other field is the same (TestNoBytesInFlightSameVerdicts).
	NoBytesInFlight bool
	// Focus, when set, analyses only the connection numbered Stream: the
	// segments of every other one are only numbered (Result's Frame,
	// Stream, Seq, Ack and the ReusedPorts flag; nothing else), for a
	// caller that shows one stream (follow, graph, ladder) but must read
	// the whole capture to number it as Wireshark does. Stream numbers,
	// and every Result of the focused stream, are the same as without it
	// (TestFocusSameResults); Summaries and DroppedSegments then describe
	// the focused stream only.
	Focus  bool
	Stream int
}

// Analyzer follows every TCP connection of one capture and judges each
// segment as Wireshark's first pass does. It is not safe for concurrent use:
// segments must be added one at a time, in capture order.
type Analyzer struct {
	maxUnacked int
	maxStreams int                  // connection-table limit; negative = none
	noNotes    bool                 // Options.NoNotes
	noBIF      bool                 // Options.NoBytesInFlight
	focus      bool                 // Options.Focus
	stream     int                  // Options.Stream, with focus
	current    map[connKey]*lruNode // the newest connection on each address/port pair
	// last is current[last.key], the connection of the segment before: in
	// a bulk transfer most segments follow one of the same connection,
	// and comparing keys is cheaper than hashing one. Nil when unknown
	// (newConn and eviction, which change current, clear it). Its own key
	// is compared: a copy of it, stored for every segment, cost more.
	last *lruNode
	// near caches current by the ends' ports (nearSlot), for the segment
	// that is not of the connection before: in a capture of many
	// connections at once (make bench's big.pcap: four bulk transfers
	// among 20 000 short ones) that is most segments, and hashing a
	// 64-byte key for the map cost more than the rest of finding the
	// connection. An entry is current[entry.key] or nil, as last is: the
	// same two places that change current keep it so.
	near       [nearSlots]*lruNode
	lru        lruList // open connections, most recently used first
	closed     lruList // retired connections, most recently used first
	nextStream int     // stream number of the next new connection
	evicted    int     // connections forgotten to respect maxStreams
	dropped    int     // segments whose state was not kept (cap, retirement, eviction)

	// Connections are allocated in slabs of connSlab, and an evicted
	// one is reused, with its lists' storage, by the next new one: a
	// capture of many short connections (tens of thousands) then
	// allocates about nothing per connection (issue 18).
	slab      []connSlot
	freeSlots []*lruNode // evicted, each with its conn, for reuse

	// free recycles the nodes of the unacknowledged lists' B-trees
	// (see unackedList), which a bulk transfer builds and empties
	// every few round trips.
	free *btree.FreeListG[keyed]

	tombs    map[uint64]tomb // forgotten connections, by hashKey
	tombRing []uint64        // their keys, oldest first from tombNext
	tombNext int
}

// New returns an Analyzer with no connections.
func New(opts Options) *Analyzer {
	if opts.MaxUnacked <= 0 {
		opts.MaxUnacked = DefaultMaxUnacked
	}
	if opts.MaxStreams == 0 {
		opts.MaxStreams = DefaultMaxStreams
	}
	a := &Analyzer{maxUnacked: opts.MaxUnacked, maxStreams: opts.MaxStreams, noNotes: opts.NoNotes, noBIF: opts.NoBytesInFlight,
		focus: opts.Focus, stream: opts.Stream, current: map[connKey]*lruNode{},
		free: btree.NewFreeListG[keyed](freeNodes)}
	a.lru.init()
	a.closed.init()
	return a
}

// freeNodes is how many B-tree nodes the analyzer keeps for reuse (each
// about 1.3 KB: at most about 1.3 MB).
const freeNodes = 1024

// DroppedSegments counts the unacknowledged segments whose state the
// analyzer did not keep: those refused because a direction already held
// MaxUnacked of them, and those still listed when a finished connection was
// retired. A non-zero value means acks_frame, ack_rtt or bytes_in_flight may
// be missing for some later segments; the UI should say so.
func (a *Analyzer) DroppedSegments() int { return a.dropped }

// Result is the analysis of one segment: what tshark shows under tcp.* for
// it, plus a plain-language note. Times are durations, sequence numbers are
// relative to each side's initial sequence number (ISN).
type Result struct {
	Frame  int // the segment's frame number, copied for convenience
	Stream int // tcp.stream: 0-based connection index in order of first appearance

	Seq uint32 // tcp.seq: relative sequence number (0 at the ISN)
	Ack uint32 // tcp.ack: relative acknowledgement number; 0 when the ACK flag is clear
	Win uint32 // tcp.window_size: window after scaling (raw while the scale is unknown)
	// WinScale is the shift applied to Win (tcp.window_size_scalefactor is
	// 1<<WinScale): 0…14, or -1 while unknown (no SYN seen), -2 when the
	// handshake showed scaling is not used. SYNs are never scaled.
	WinScale int8

	Flags Flags      // tcp.analysis.* verdicts
	Conn  ConnEvents // tcp.connection.* events

	AcksFrame     int           // tcp.analysis.acks_frame: frame whose data this ACK covers; 0 = none
	AckRTT        time.Duration // tcp.analysis.ack_rtt: time from that frame to this ACK
	HasAckRTT     bool          // AckRTT is meaningful (tshark omits a zero RTT)
	InitialRTT    time.Duration // tcp.analysis.initial_rtt: handshake round trip (SYN to third packet)
	HasInitialRTT bool          // the handshake has been seen up to its ACK
	BytesInFlight uint32        // tcp.analysis.bytes_in_flight: unacknowledged bytes this way
	HasBIF        bool          // BytesInFlight is computed for this segment
	PushBytesSent uint32        // tcp.analysis.push_bytes_sent: payload this way since the last PSH, this segment's included
	HasPushBytes  bool          // PushBytesSent is shown (the segment carries data)
	DupAckNum     int           // tcp.analysis.duplicate_ack_num: n-th duplicate in a row; 0 = not a dup
	DupAckFrame   int           // tcp.analysis.duplicate_ack_frame: the original ACK's frame

	Severity Severity // the highest Wireshark expert level among Flags and Conn
	Note     Note     // what happened, in words a student understands (written on demand)

	// StateDropped is true when the analyzer had to forget unacknowledged
	// segments of this connection (the MaxUnacked cap, or retirement after a
	// reset), so the ACK-related fields of this segment may be incomplete.
	StateDropped bool
}

// resetAllButNote makes r Result{Frame: frame, Stream: stream} with its
// Note cleared only if it is set: with Options.NoNotes every Note stays
// zero, and clearing its 272 bytes for every segment was most of the cost
// of the clear (stats). TestResetAllButNote checks that every other field
// is listed here.
func (r *Result) resetAllButNote(frame, stream int) {
	if r.Note.set {
		r.Note = Note{}
	}
	r.Frame, r.Stream = frame, stream
	r.Seq, r.Ack, r.Win, r.WinScale = 0, 0, 0, 0
	r.Flags, r.Conn = 0, 0
	r.AcksFrame, r.AckRTT, r.HasAckRTT = 0, 0, false
	r.InitialRTT, r.HasInitialRTT = 0, false
	r.BytesInFlight, r.HasBIF, r.PushBytesSent, r.HasPushBytes = 0, false, 0, false
	r.DupAckNum, r.DupAckFrame = 0, 0
	r.Severity = 0
	r.StateDropped = false
}

// nearSlots is the size of Analyzer.near: a power of two.
const nearSlots = 256

// nearSlot is the slot of Analyzer.near for a connection's two ends, in
// either order: their ports' exclusive or (a client's port varies, a
// server's mostly does not), cut to nearSlots.
func nearSlot(a, b netip.AddrPort) int { return int(a.Port()^b.Port()) & (nearSlots - 1) }

// connKey identifies an address/port pair regardless of direction.
type connKey struct{ lo, hi netip.AddrPort }

// side is 0 for the pair's lo end, 1 for its hi end.
func (k connKey) side(ap netip.AddrPort) int {
	if ap == k.lo {
		return 0
	}
	return 1
}

func keyOf(a, b netip.AddrPort) connKey {
	// AddrPort.Compare's order, with its common case first: two ends on
	// one address (loopback) are ordered by port, without Addr.Compare's
	// walk through family, bytes and zone.
	if a.Addr() == b.Addr() {
		if a.Port() > b.Port() {
			a, b = b, a
		}
	} else if a.Compare(b) > 0 {
		a, b = b, a
	}
	return connKey{a, b}
}

// Add analyses one segment, which must come after every segment added
// before it in capture order. It keeps no reference to s (SACK blocks are
// copied).
func (a *Analyzer) Add(s Segment) Result {
	var r Result
	a.AddTo(&s, &r)
	return r
}

// AddTo is Add writing the result into r, without copying the segment in
// or the result out: a Result is 400 bytes, a Segment 184, and a pipeline
// adds a million segments a second (see pipeline.Item, which holds both).
func (a *Analyzer) AddTo(s *Segment, r *Result) {
	var key connKey
	n := a.last
	if n != nil && n.c.joins(s.Src, s.Dst) {
		key = n.key // the same ends: no key to build and compare
	} else if near := &a.near[nearSlot(s.Src, s.Dst)]; *near != nil && (*near).c.joins(s.Src, s.Dst) {
		n, key = *near, (*near).key
	} else {
		key = keyOf(s.Src, s.Dst)
		if n = a.current[key]; n != nil {
			*near = n
		}
	}
	var c, reused *conn
	switch {
	case n == nil:
		n, reused = a.start(key, *s)
	case a.portsReused(n.c, s):
		reused = n.c
		n = a.newConn(key, *s, a.takeStream())
	default:
		a.touch(n)
	}
	c = n.c
	fwd, rev := c.flows(s.Src)
	if a.noNotes {
		r.resetAllButNote(s.Frame, c.stream)
	} else {
		*r = Result{Frame: s.Frame, Stream: c.stream}
	}
	if reused != nil {
		r.Flags |= ReusedPorts
	}
	if a.focus && c.stream != a.stream {
		c.number(fwd, rev, s, r)
	} else {
		a.judge(c, fwd, rev, s, r, reused)
	}
	if a.maybeRetire(c) {
		a.close(n)
	}
	a.last = n
}

// judge is the whole analysis of a segment of connection c, after AddTo
// found c: the verdicts, the connection's bookkeeping, the note.
func (a *Analyzer) judge(c *conn, fwd, rev *flow, s *Segment, r *Result, reused *conn) {
	var x facts
	a.analyze(c, fwd, rev, s, r, &x)
	c.afterAnalysis(fwd, rev, s, r, &x)
	if !a.noNotes {
		note(&r.Note, c, fwd, rev, s, r, &x, reused)
	}
	r.Severity = severity(r.Flags, r.Conn)
	r.StateDropped = fwd.dropped || rev.dropped
	if s.EmptySACK {
		// What tshark 4.0 shows for it: no analysis fields at all.
		r.Flags = 0
		r.AcksFrame, r.AckRTT, r.HasAckRTT = 0, 0, false
		r.HasInitialRTT, r.HasBIF, r.BytesInFlight = false, false, 0
		r.DupAckNum, r.DupAckFrame = 0, 0
		r.Severity = severity(r.Flags, r.Conn)
	}
}

// Locate gives a segment that cannot be analysed (its TCP header claims more
// bytes than the IP packet holds, Wireshark's "short segment") its stream,
// as Wireshark does: the connection is found, or started, but none of its
// state changes. Seq and Ack are relative when the side's base is known,
// raw otherwise; the window is raw; there are no verdicts.
func (a *Analyzer) Locate(s Segment) Result {
	key := keyOf(s.Src, s.Dst)
	n := a.current[key]
	if n == nil {
		n, _ = a.start(key, s)
	} else {
		a.touch(n)
	}
	fwd, rev := n.c.flows(s.Src)
	n.c.last = s.Time
	fwd.packets++
	r := Result{Frame: s.Frame, Stream: n.c.stream, Seq: s.Seq, Win: uint32(s.Window)}
	if fwd.baseSet {
		r.Seq -= fwd.baseSeq
	}
	if s.Flags&ACK != 0 {
		r.Ack = s.Ack
		if rev.baseSet {
			r.Ack -= rev.baseSeq
		}
	}
	return r
}

// StreamOf returns the stream of s's connection, starting one (with the
// next stream number) when the address/port pair is unknown, without
// counting s as a segment of it: this is how Wireshark numbers a TCP header
// quoted whole in an ICMP error, which takes no part in the analysis.
func (a *Analyzer) StreamOf(s Segment) int {
	key := keyOf(s.Src, s.Dst)
	n := a.current[key]
	if n == nil {
		s.Flags = 0 // a quoted SYN must not open the connection's state
		n, _ = a.start(key, s)
		n.c.last = s.Time // known from this moment, with no segment of its own
	}
	return n.c.stream
}

// portsReused decides whether a SYN or SYN-ACK on a known address/port pair
// starts a new connection (Wireshark: "A new tcp session is started with
// the same ports as an earlier session", tcp.analysis.reused_ports).
//
// Wireshark 4.0 does this only for a SYN without ACK whose sequence number
// differs from the ISN already recorded for that side. A SYN with the same
// ISN is a retransmitted SYN and stays in the old stream, even after a RST
// or FIN (newer Wireshark also splits on those; 4.0 does not). A SYN-ACK
// with a new ISN is flagged reused_ports by 4.0 but stays in the same
// stream; see the caller in analyze.
func (a *Analyzer) portsReused(c *conn, s *Segment) bool {
	if s.Flags&(SYN|ACK) != SYN {
		return false // nearly every segment: decided before finding its flow
	}
	fwd, _ := c.flows(s.Src)
	return fwd.baseSet && s.Seq != fwd.baseSeq
}

// start begins following the pair key at segment s. Usually that is a new
// connection; if the pair has a tombstone (its connection was forgotten),
// a SYN with a new ISN still starts a new one, and reused is a stand-in for
// the old one (for the note), while anything else brings the forgotten
// connection back under its stream number, with its base sequence numbers.
func (a *Analyzer) start(key connKey, s Segment) (n *lruNode, reused *conn) {
	t, ok := a.exhume(key)
	if !ok {
		return a.newConn(key, s, a.takeStream()), nil
	}
	if k := key.side(s.Src); s.Flags&(SYN|ACK) == SYN && t.set[k] && s.Seq != t.base[k] {
		return a.newConn(key, s, a.takeStream()), &conn{stream: t.stream}
	}
	n = a.newConn(key, s, t.stream)
	for i, end := range n.c.ends {
		k := key.side(end)
		n.c.flow[i].baseSeq, n.c.flow[i].baseSet = t.base[k], t.set[k]
	}
	return n, nil
}

// Streams is how many streams (tcp.stream numbers, from 0) the analyzer has
// handed out so far: after the last frame, the capture's stream count.
func (a *Analyzer) Streams() int { return a.nextStream }

// takeStream hands out the next stream number.
func (a *Analyzer) takeStream() int {
	a.nextStream++
	return a.nextStream - 1
}

// newConn starts connection number stream, makes it the newest on its
// address/port pair and the most recently used, and evicts the least
// recently used ones if the table is now over its limit.
func (a *Analyzer) newConn(key connKey, s Segment, stream int) *lruNode {
	n := a.takeSlot()
	c := n.c
	spare := [2]flowSpare{c.flow[0].spare(), c.flow[1].spare()}
	*c = conn{stream: stream, ends: [2]netip.AddrPort{s.Src, s.Dst}, first: s.Time}
	*n = lruNode{c: c, key: key}
	for i := range c.flow {
		c.flow[i].init()
		c.flow[i].reuse(spare[i])
		c.flow[i].segs.free = a.free
	}
	a.lru.pushFront(n)
	a.current[key] = n
	a.last = nil
	a.near[nearSlot(key.lo, key.hi)] = n
	a.evictOverflow(n)
	return n
}

// analyze is Wireshark's tcp_analyze_sequence_number (first pass) plus the
// ACK bookkeeping that follows it, in the same order of checks.
func (a *Analyzer) analyze(c *conn, fwd, rev *flow, s *Segment, r *Result, x *facts) {
	seq, ack, seglen := s.Seq, s.Ack, uint32(s.Len)
	flags := s.Flags
	window := uint32(s.Window)
	now := s.Time
	sfr := flags&(SYN|FIN|RST) != 0

	setBases(fwd, rev, s, r)
	if flags&ACK != 0 {
		rev.validBIF = true
	}

	x.prevAck, x.prevAckSet = fwd.lastAck, fwd.sentACK
	f := Flags(0)
	// 1. Zero-window probe: exactly one byte at the next sequence number
	// while the other side advertises no room.
	if seglen == 1 && seq == fwd.nextSeq && rev.window == 0 {
		f |= ZeroWindowProbe
		goto finishedFwd
	}
	// 2. Zero window.
	if window == 0 && !sfr {
		f |= ZeroWindow
	}
	// 3. Previous segment not captured: this starts beyond what we saw.
	if fwd.nextSeq != 0 && seqGT(seq, fwd.nextSeq) && flags&RST == 0 {
		f |= LostSegment
		fwd.validBIF = false
		x.expected = fwd.nextSeq
	}
	// 4. Keep-alive: 0 or 1 byte starting one byte before the next number.
	if (seglen == 0 || seglen == 1) && seq == fwd.nextSeq-1 && !sfr {
		f |= KeepAlive
	}
	// 5. Window update: nothing new but the window.
	if seglen == 0 && window != 0 && window != fwd.window && seq == fwd.nextSeq && ack == fwd.lastAck && !sfr {
		f |= WindowUpdate
	}
	// 6. Window full: data reaches exactly the right edge of the window the
	// other side advertised (unscaled while that side's first ACK is pending,
	// Wireshark bug 14690).
	if seglen > 0 && rev.winScale != wsUnknown && !sfr {
		shift := uint32(0)
		if !rev.isFirstAck && rev.winScale >= 0 {
			shift = uint32(rev.winScale)
		}
		if seq+seglen == rev.lastAck+(rev.window<<shift) {
			f |= WindowFull
		}
	}
	// 7. Keep-alive ACK: repeats the last ACK right after a keep-alive.
	if seglen == 0 && window != 0 && window == fwd.window && seq == fwd.nextSeq && ack == fwd.lastAck &&
		rev.lastFlags&KeepAlive != 0 && !sfr {
		f |= KeepAliveAck
		goto finishedFwd
	}
	// 8. Zero-window probe ACK: repeats the last ACK and the zero window.
	// (4.0 requires the same ACK; newer Wireshark also accepts ACK+1.)
	if seglen == 0 && window == 0 && window == fwd.window && seq == fwd.nextSeq && ack == fwd.lastAck &&
		rev.lastFlags&ZeroWindowProbe != 0 && !sfr {
		f |= ZeroWindowProbeAck
		goto finishedFwd
	}
	// 9. Duplicate ACK: same seq, ack and window, no data.
	if seglen == 0 && window != 0 && window == fwd.window && seq == fwd.nextSeq && ack == fwd.lastAck && !sfr {
		if fwd.dupAckNum == -1 {
			fwd.dupAckNum = 1
		} else {
			fwd.dupAckNum++
		}
		f |= DuplicateAck
		r.DupAckNum = fwd.dupAckNum
		r.DupAckFrame = fwd.lastNonDupAck
	}

finishedFwd:
	if ack != fwd.lastAck {
		fwd.lastNonDupAck = s.Frame
		fwd.dupAckNum = 0
	}

	// 11. ACKed segment that wasn't captured: the ACK is beyond anything the
	// other side was seen sending contiguously. 4.0 reports each gap once:
	// if the other side has sent beyond the gap, maxSeqToBeAcked jumps to
	// its nextSeq; if it has not (we only miss its data), the report is
	// remembered by setting its dupAckNum to -1 until its ACK moves.
	// That -1 is stored in an unsigned counter in Wireshark, so it also
	// satisfies "at least 2 duplicate ACKs" in the fast-retransmission test
	// below; we reproduce that. (Found by measuring tshark 4.0.17; newer
	// Wireshark scans the unacked list instead.) The comparison is a plain
	// unsigned one, as in Wireshark.
	if rev.maxSeqToBeAcked != 0 && seqGT(ack, rev.maxSeqToBeAcked) && flags&ACK != 0 {
		if rev.maxSeqToBeAcked < rev.nextSeq {
			rev.maxSeqToBeAcked = rev.nextSeq
			f |= AckLostSegment
		} else {
			if rev.dupAckNum == 0 {
				f |= AckLostSegment
			}
			rev.dupAckNum = -1
			x.record = true // 4.0 allocates the analysis record here, flag or not
		}
	}

	// 12. Retransmission, fast retransmission, spurious retransmission or
	// out-of-order: the segment carries data (or SYN/FIN) and does not
	// advance the sequence number.
	if seglen > 0 || flags&(SYN|FIN) != 0 {
		notAdvanced := fwd.nextSeq != 0 && seqLT(seq, fwd.nextSeq)
		if f&KeepAlive != 0 {
			goto finishedRetrans // a keep-alive is never a retransmission
		}
		// The byte after a zero-window probe is new data, not a resend.
		if seglen > 1 && fwd.nextSeq-1 == seq {
			notAdvanced = false
		}
		// Spurious: everything in it was already acknowledged.
		if seglen > 0 && rev.lastAck != 0 && seqLE(seq+seglen, rev.lastAck) {
			f |= SpuriousRetransmission
			x.origFrame, x.origTime = fwd.segs.findOriginal(seq)
			goto finishedRetrans
		}
		// Fast retransmission: at least 2 dup ACKs for exactly this data,
		// and less than 20 ms since the other side's last segment.
		if notAdvanced && uint32(rev.dupAckNum) >= 2 && rev.lastAck == seq && since(now, rev.lastAckTime) < 20*time.Millisecond {
			f |= FastRetransmission
			x.dupAcks = rev.dupAckNum
			goto finishedRetrans
		}
		// Out of order: soon (under the handshake RTT, or 3 ms) after the
		// segment that set nextSeq, and not just the last segment again.
		// (4.0 measures from fwd.nextSeqTime; newer Wireshark from the
		// other side's last packet and checks earlier copies.)
		if notAdvanced {
			thres := 3 * time.Millisecond
			if c.hasIRTT {
				thres = c.irtt
			}
			end := seq + seglen
			if flags&(SYN|FIN) != 0 {
				end++
			}
			if since(now, fwd.nextSeqTime) < thres && fwd.nextSeq != end {
				f |= OutOfOrder
				// For the note only: whether these bytes were sent before
				// (a quick resend) or are arriving late.
				x.origFrame, x.origTime = fwd.segs.findOriginal(seq)
				goto finishedRetrans
			}
			f |= Retransmission
			x.origFrame, x.origTime = fwd.segs.findOriginal(seq)
			if x.origFrame == 0 {
				x.origFrame, x.origTime = fwd.nextSeqFrame, fwd.nextSeqTime
			}
		}
	}
finishedRetrans:

	// State update (Wireshark §1.4): remember the segment for ACK matching.
	// The SYN/FIN counts one sequence number, but Wireshark adds that 1 only
	// when the segment is recorded; when the list is full it is lost too.
	nextSeq := seq + seglen
	if seglen > 0 || flags&(SYN|FIN) != 0 {
		if fwd.segs.len() < a.maxUnacked {
			if flags&(SYN|FIN) != 0 {
				nextSeq++
			}
			fwd.segs.add(mkUnacked(s.Frame, seq, nextSeq, now))
		} else {
			fwd.dropped = true
			a.dropped++
		}
	}
	if (seqGT(nextSeq, fwd.nextSeq) || fwd.nextSeq == 0) && f&ZeroWindowProbe == 0 {
		fwd.nextSeq = nextSeq
		fwd.nextSeqFrame = s.Frame
		fwd.nextSeqTime = now
	}
	if (seq == fwd.maxSeqToBeAcked || fwd.maxSeqToBeAcked == 0) && f&ZeroWindowProbe == 0 {
		fwd.maxSeqToBeAcked = fwd.nextSeq
	}
	fwd.window = window
	fwd.lastAck = ack
	fwd.lastAckTime = now
	fwd.lastFlags = f | r.Flags&ReusedPorts

	// Match the ACK against the other side's unacknowledged segments. An
	// exact hit on a segment's end gives acks_frame and ack_rtt; Wireshark
	// walks newest first and the last hit wins, which is the oldest hit, so
	// the earliest added hit is kept. A hit inside a segment trims it; every
	// segment ending at or below the ACK is forgotten.
	rev.segs.matchAck(ack, now, r, x)
	r.HasAckRTT = r.AcksFrame != 0 && r.AckRTT != 0

	// Bytes in flight (the default, payload-based method), unless the
	// caller shows none (Options.NoBytesInFlight); the analysis record is
	// kept all the same (initial_rtt is shown in it).
	if seglen != 0 && fwd.segs.len() > 0 && fwd.validBIF {
		x.record = true
		if !a.noBIF {
			bytesInFlight(fwd, rev, flags, seglen, r)
		}
	}
	r.Flags |= f
	// Wireshark keeps a per-segment analysis record only when there is
	// something to say (a flag, an acked frame, bytes in flight), and 4.0
	// prints initial_rtt only inside that record.
	x.record = x.record || r.Flags != 0 || r.AcksFrame != 0
}

// bytesInFlight sets r's bytes in flight: the span of the sender's
// unacknowledged segments (fwd's, not empty) minus what the other side
// SACKed, and the bytes it sent since its last PSH, which Wireshark counts
// only where it has just computed bytes in flight.
func bytesInFlight(fwd, rev *flow, flags uint8, seglen uint32, r *Result) {
	first, last := fwd.segs.bounds(fwd.baseSeq)
	inFlight := last - first
	for _, b := range rev.sack {
		inFlight -= b.Right - b.Left
	}
	if inFlight > 0 && inFlight < 2000000000 {
		if flags&(SYN|FIN) != 0 {
			inFlight--
		}
		r.BytesInFlight, r.HasBIF = inFlight, true
		// Bytes sent since the last PSH (tcp.analysis.push_bytes_sent):
		// this side's payload since its last PSH segment, this one and
		// retransmissions included.
		if fwd.pushSetLast {
			fwd.pushBytes = 0
		}
		fwd.pushBytes += seglen
		fwd.pushSetLast = flags&PSH != 0
		r.PushBytesSent, r.HasPushBytes = fwd.pushBytes, true
	}
}

// since is now-then, but a negative or unknown interval counts as "very
// long": Wireshark computes it in an unsigned 64-bit integer, so a clock
// that goes backwards never looks like a short interval.
func since(now, then time.Time) time.Duration {
	if then.IsZero() {
		return 1<<63 - 1
	}
	d := now.Sub(then)
	if d < 0 {
		return 1<<63 - 1
	}
	return d
}
