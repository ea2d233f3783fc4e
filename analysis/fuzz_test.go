package analysis

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

// segmentsFromBytes turns fuzz input into segments, 12 bytes each, between
// two or three endpoints so that streams, reuse and both directions occur:
//
//	byte 0: endpoint pair (bit 0: direction, bit 1: second client port)
//	byte 1: TCP flags
//	bytes 2-3: seq step (signed, so segments go back and forth)
//	bytes 4-5: ack step (signed)
//	byte 6: payload length; byte 7: window (0 gives zero windows)
//	byte 8: time step in ms (bit 7 set: step backwards)
//	byte 9: window-scale option (0xff = none)
//	bytes 10-11: a SACK block length, 0 = none
func segmentsFromBytes(data []byte) []Segment {
	a := netip.MustParseAddrPort("192.0.2.1:50000")
	a2 := netip.MustParseAddrPort("192.0.2.1:50001")
	b := netip.MustParseAddrPort("192.0.2.2:443")
	var out []Segment
	seq := [2]uint32{1 << 31, 4000000000} // near the wrap, on purpose
	ack := [2]uint32{}
	now := time.Unix(1700000000, 0)
	for i := 0; len(data) >= 12; i, data = i+1, data[12:] {
		dir := int(data[0] & 1)
		src, dst := a, b
		if data[0]&2 != 0 {
			src = a2
		}
		if dir == 1 {
			src, dst = dst, src
		}
		seq[dir] += uint32(int16(binary.BigEndian.Uint16(data[2:])))
		ack[dir] += uint32(int16(binary.BigEndian.Uint16(data[4:])))
		step := time.Duration(data[8]&0x7f) * time.Millisecond
		if data[8]&0x80 != 0 {
			step = -step
		}
		now = now.Add(step)
		s := Segment{Frame: i + 1, Time: now, Src: src, Dst: dst, Seq: seq[dir], Ack: ack[dir],
			Flags: data[1], Window: uint16(data[7]) * 100, Len: int(data[6]), MSS: -1, WScale: -1}
		if data[9] != 0xff {
			s.WScale = int(data[9])
		}
		if n := binary.BigEndian.Uint16(data[10:]); n != 0 {
			s.SACK = []SACKBlock{{Left: s.Ack + 100, Right: s.Ack + 100 + uint32(n)}}
		}
		out = append(out, s)
	}
	return out
}

// FuzzAnalyzer feeds arbitrary segment sequences: the analyzer must not
// panic, and its results must stay self-consistent.
func FuzzAnalyzer(f *testing.F) {
	f.Add([]byte{
		0, SYN, 0, 0, 0, 0, 0, 10, 0, 7, 0, 0,
		1, SYN | ACK, 0, 0, 0, 1, 0, 10, 1, 8, 0, 0,
		0, ACK, 0, 1, 0, 1, 0, 10, 1, 0xff, 0, 0,
		0, ACK | PSH, 0, 0, 0, 0, 100, 10, 1, 0xff, 0, 0,
		1, ACK, 0, 0, 0, 100, 0, 0, 1, 0xff, 0, 0,
		0, ACK, 0, 100, 0, 0, 1, 10, 100, 0xff, 0, 0,
		1, ACK, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 50,
		0, FIN | ACK, 0, 0, 0, 0, 0, 10, 1, 0xff, 0, 0,
		3, RST, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0,
		2, SYN, 0x12, 0x34, 0, 0, 0, 10, 1, 20, 0, 0,
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Small caps on both tables, so that the fuzzer reaches the
		// unacked-list cap and connection eviction (three endpoint pairs,
		// port reuse) and the state stays bounded by them.
		const limit, maxStreams = 8, 2
		a := New(Options{MaxUnacked: limit, MaxStreams: maxStreams})
		for _, s := range segmentsFromBytes(data) {
			r := a.Add(s)
			checkInvariants(t, a, s, r, limit)
			if a.lru.n > maxStreams || len(a.current) > maxStreams {
				t.Fatalf("frame %d: %d connections kept, %d current; cap %d", s.Frame, a.lru.n, len(a.current), maxStreams)
			}
		}
		prev := -1
		for i, sum := range a.Summaries() {
			if sum.Stream <= prev || sum.Stream >= a.nextStream {
				t.Fatalf("summary %d has stream %d after %d", i, sum.Stream, prev)
			}
			prev = sum.Stream
			if sum.ClientPackets+sum.ServerPackets == 0 {
				t.Fatalf("summary %d counts no packets", i)
			}
		}
	})
}

func checkInvariants(t *testing.T, a *Analyzer, s Segment, r Result, limit int) {
	t.Helper()
	if r.Frame != s.Frame || r.Stream < 0 || r.Stream >= a.nextStream {
		t.Fatalf("frame %d: bad frame/stream %d/%d", s.Frame, r.Frame, r.Stream)
	}
	if text := r.Note.String(); text == "" {
		t.Fatalf("frame %d: empty note", s.Frame)
	} else if !plainText(text) {
		// The JSON renderer copies notes unescaped (Note.AppendTo).
		t.Fatalf("frame %d: note %q has a character a JSON string must escape", s.Frame, text)
	}
	if (r.DupAckNum > 0) != r.Flags.Has(DuplicateAck) {
		t.Fatalf("frame %d: dup_ack_num %d with flags %v", s.Frame, r.DupAckNum, r.Flags.Names())
	}
	if r.AcksFrame >= s.Frame || (r.HasAckRTT && r.AcksFrame == 0) {
		t.Fatalf("frame %d: acks_frame %d (rtt %v)", s.Frame, r.AcksFrame, r.HasAckRTT)
	}
	if n := r.Flags & anyRetransmission; n&(n-1) != 0 {
		t.Fatalf("frame %d: several retransmission kinds %v", s.Frame, r.Flags.Names())
	}
	if r.Flags.Has(ReusedPorts) && s.Flags&SYN == 0 {
		t.Fatalf("frame %d: reused_ports without SYN", s.Frame)
	}
	if r.Severity > SeverityWarn || (r.Flags != 0 && r.Severity == SeverityNone) {
		t.Fatalf("frame %d: severity %v for %v", s.Frame, r.Severity, r.Flags.Names())
	}
	// Wireshark checks 0 < in_flight < 2e9 *before* taking 1 off for a SYN
	// or FIN, so a SYN or FIN may carry bytes_in_flight 0; nothing else may.
	if r.HasBIF && (r.BytesInFlight == 0 && s.Flags&(SYN|FIN) == 0 || r.BytesInFlight >= 2000000000) {
		t.Fatalf("frame %d: bytes in flight %d", s.Frame, r.BytesInFlight)
	}
	if s.Flags&ACK == 0 && r.Ack != 0 {
		t.Fatalf("frame %d: ack %d without the ACK flag", s.Frame, r.Ack)
	}
	for _, c := range a.conns() {
		for i := range c.flow {
			if c.flow[i].segs.len() > limit || len(c.flow[i].sack) > maxSACKRanges {
				t.Fatalf("frame %d: stream %d keeps %d segments / %d SACK blocks", s.Frame, c.stream,
					c.flow[i].segs.len(), len(c.flow[i].sack))
			}
		}
	}
}

// TestMemoryBound sends more than MaxUnacked segments that are never
// acknowledged: the list stays at the cap, the drop is counted and flagged,
// and a RST then retires the connection's lists.
func TestMemoryBound(t *testing.T) {
	a := New(Options{})
	c := netip.MustParseAddrPort("10.1.1.1:1234")
	srv := netip.MustParseAddrPort("10.1.1.2:80")
	now := time.Unix(1700000000, 0)
	seg := func(frame int, seq uint32, n int, flags uint8) Segment {
		return Segment{Frame: frame, Time: now.Add(time.Duration(frame) * time.Microsecond), Src: c, Dst: srv,
			Seq: seq, Ack: 1, Flags: flags, Window: 100, Len: n, MSS: -1, WScale: -1}
	}
	const total = DefaultMaxUnacked + 500
	var r Result
	for i := 0; i < total; i++ {
		r = a.Add(seg(i+1, uint32(1000+i*10), 10, ACK))
	}
	conn := a.conns()[0]
	if got := conn.flow[0].segs.len(); got != DefaultMaxUnacked {
		t.Fatalf("kept %d unacked segments, want the cap %d", got, DefaultMaxUnacked)
	}
	if a.DroppedSegments() != 500 || !r.StateDropped || !a.Summaries()[0].StateDropped {
		t.Fatalf("dropped = %d, result flag %v, summary flag %v; want 500, true, true",
			a.DroppedSegments(), r.StateDropped, a.Summaries()[0].StateDropped)
	}
	a.Add(seg(total+1, uint32(1000+total*10), 0, RST))
	if conn.flow[0].segs.len() != 0 || a.DroppedSegments() != 500+DefaultMaxUnacked {
		t.Fatalf("after RST: %d segments kept, %d dropped", conn.flow[0].segs.len(), a.DroppedSegments())
	}
}

// TestRetireAfterFINs: once both FINs are acknowledged the lists are freed
// without counting a drop (they are empty), and the stream stays known.
func TestRetireAfterFINs(t *testing.T) {
	a := New(Options{})
	c := netip.MustParseAddrPort("10.1.1.1:1234")
	srv := netip.MustParseAddrPort("10.1.1.2:80")
	now := time.Unix(1700000000, 0)
	add := func(frame int, src, dst netip.AddrPort, seq, ack uint32, flags uint8) {
		a.Add(Segment{Frame: frame, Time: now.Add(time.Duration(frame) * time.Millisecond), Src: src, Dst: dst,
			Seq: seq, Ack: ack, Flags: flags, Window: 100, MSS: -1, WScale: -1})
	}
	add(1, c, srv, 100, 0, SYN)
	add(2, srv, c, 500, 101, SYN|ACK)
	add(3, c, srv, 101, 501, ACK)
	add(4, c, srv, 101, 501, FIN|ACK)
	add(5, srv, c, 501, 102, FIN|ACK)
	add(6, c, srv, 102, 502, ACK)
	conn := a.conns()[0]
	if !conn.retired || a.DroppedSegments() != 0 {
		t.Fatalf("retired %v, dropped %d; want true, 0", conn.retired, a.DroppedSegments())
	}
	if s := a.Summaries()[0]; s.Ending != ClosedByBoth || s.StateDropped {
		t.Fatalf("summary %+v", s)
	}
}

func BenchmarkAdd(b *testing.B) {
	segs := segmentsFromBytes(benchInput())
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		a := New(Options{})
		for _, s := range segs {
			a.Add(s)
		}
		n += len(segs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
}

// benchInput is a handshake then a bulk transfer with ACKs every other
// segment, in the fuzz encoding.
func benchInput() []byte {
	in := []byte{
		0, SYN, 0, 0, 0, 0, 0, 200, 0, 7, 0, 0,
		1, SYN | ACK, 0, 0, 0, 1, 0, 200, 1, 7, 0, 0,
		0, ACK, 0, 1, 0, 1, 0, 200, 1, 0xff, 0, 0,
	}
	for i := 0; i < 1000; i++ {
		in = append(in, 0, ACK, 0, 200, 0, 0, 200, 200, 0, 0xff, 0, 0)
		if i%2 == 1 {
			in = append(in, 1, ACK, 0, 0, 1, 144, 0, 200, 1, 0xff, 0, 0)
		}
	}
	return in
}

// FuzzFocus: an analyzer focused on one stream (Options.Focus) numbers
// arbitrary segment sequences as a full one does and gives the focused
// stream's segments the same Result, also when a tiny connection table
// makes retirement (FINs, RSTs) decide which connection is forgotten.
// Each of the first four streams is focused on in turn.
func FuzzFocus(f *testing.F) {
	// A SYN-ACK with a new ISN moves the base of an unfocused stream.
	f.Add([]byte{
		0, SYN, 0, 0, 0, 0, 0, 10, 0, 7, 0, 0,
		1, SYN | ACK, 0, 0, 0, 1, 0, 10, 1, 8, 0, 0,
		0, ACK, 0, 1, 0, 1, 0, 10, 1, 0xff, 0, 0,
		1, SYN | ACK, 0x12, 0x34, 0, 0, 0, 10, 1, 8, 0, 0,
		1, ACK, 0, 1, 0, 0, 0, 10, 1, 0xff, 0, 0,
	})
	// A reset retires stream 1, so a third connection on its ports (a SYN
	// with a new ISN) makes the table forget it rather than stream 0,
	// whose handshake then ends with its initial RTT known.
	f.Add([]byte{
		2, SYN, 0, 0, 0, 0, 0, 10, 0, 7, 0, 0,
		0, SYN, 0, 0, 0, 0, 0, 10, 1, 7, 0, 0,
		0, RST, 0, 1, 0, 0, 0, 0, 1, 0xff, 0, 0,
		0, SYN, 0x12, 0x34, 0, 0, 0, 10, 1, 7, 0, 0,
		3, SYN | ACK, 0, 0, 0, 1, 0, 10, 1, 8, 0, 0,
		2, ACK, 0, 1, 0, 1, 0, 10, 1, 0xff, 0, 0,
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		segs := segmentsFromBytes(data)
		for _, maxStreams := range []int{1, 2, 0} {
			full := New(Options{MaxUnacked: 8, MaxStreams: maxStreams})
			want := make([]Result, len(segs))
			for i, s := range segs {
				want[i] = full.Add(s)
			}
			for stream := range 4 {
				focus := New(Options{MaxUnacked: 8, MaxStreams: maxStreams, Focus: true, Stream: stream})
				for i, s := range segs {
					g, w := focus.Add(s), want[i]
					if g.Stream != w.Stream || g.Seq != w.Seq || g.Ack != w.Ack || g.Flags&ReusedPorts != w.Flags&ReusedPorts {
						t.Fatalf("max %d streams, focus %d: frame %d: stream %d seq %d ack %d flags %v, want %d %d %d %v",
							maxStreams, stream, s.Frame, g.Stream, g.Seq, g.Ack, g.Flags, w.Stream, w.Seq, w.Ack, w.Flags)
					}
					if w.Stream == stream && (g != w || g.Note.String() != w.Note.String()) {
						t.Fatalf("max %d streams, focus %d: frame %d:\n got %+v\nwant %+v", maxStreams, stream, s.Frame, g, w)
					}
				}
				if focus.Streams() != full.Streams() || focus.EvictedStreams() != full.EvictedStreams() {
					t.Fatalf("max %d streams, focus %d: %d streams %d evicted, want %d %d", maxStreams, stream,
						focus.Streams(), focus.EvictedStreams(), full.Streams(), full.EvictedStreams())
				}
			}
		}
	})
}
