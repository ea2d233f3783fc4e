package session

import "time"

// Chunk is one piece of a followed stream, in the order a reader should see
// it: bytes one side sent, or a gap where the capture lost bytes that the
// other side acknowledged (so they did reach it).
type Chunk struct {
	Dir   int       // 0: the side that sent the stream's first segment; 1: the other
	Frame int       // frame that delivered (or, for a gap, revealed) the chunk
	Time  time.Time // that frame's timestamp
	Seq   uint32    // relative sequence number of the chunk's first byte
	Data  []byte    // payload bytes; nil for a gap
	// Missing > 0 marks a gap of that many bytes: data the receiver
	// acknowledged but the capture never saw.
	Missing int
	// Uncaptured counts bytes the segment carried beyond Data: the capture
	// kept only the first bytes of each frame (its snaplen).
	Uncaptured int
}

// Follower rebuilds the byte stream of each direction of one connection from
// its segments, as Wireshark's "Follow TCP Stream" does (packet-tcp.c,
// follow_tcp_tap_listener and check_follow_fragments in 4.0): data is
// delivered once, in sequence order; a segment that starts beyond the next
// expected byte waits until the hole is filled, or until the other side
// acknowledges past the hole, which proves the bytes were sent and only the
// capture missed them. Retransmitted bytes are therefore shown once, and
// reordered segments in their place.
//
// Matching Wireshark byte for byte lets a student check tcpscope against
// the tool their course uses.
type Follower struct {
	next    [2]uint32  // next expected relative sequence number per direction
	written [2]int     // bytes delivered per direction
	pending [2][]Chunk // out-of-order segments waiting for a hole to fill
	out     []Chunk    // delivered chunks, in reading order
}

// Add feeds one segment of the connection, in capture order. dir is 0 or 1
// (see Chunk.Dir); seq and ack are relative numbers (analysis.Result.Seq and
// .Ack; ack is used only when hasAck); payload is the captured payload and
// length the payload length the sender sent (larger when the snaplen cut the
// frame). The payload is copied.
func (f *Follower) Add(dir, frame int, t time.Time, seq, ack uint32, hasAck bool, payload []byte, length int) {
	// An ACK for the other direction may prove that a hole there was only
	// lost by the capture: deliver what it unblocks.
	if hasAck && len(f.pending[1-dir]) > 0 {
		for f.flush(1-dir, ack, frame, t, true) {
		}
	}
	if f.written[dir] == 0 && f.next[dir] == 0 {
		f.next[dir] = seq
	}
	n := uint32(len(payload))
	if n == 0 || seqLE(seq+n, f.next[dir]) {
		return // nothing new: empty, or every byte already delivered
	}
	c := Chunk{Dir: dir, Frame: frame, Time: t, Seq: seq, Data: append([]byte(nil), payload...)}
	if seq == f.next[dir] {
		// In order. Like Wireshark, skip what the snaplen cut off rather
		// than wait for it: those bytes were sent, only not kept.
		if length > len(payload) {
			c.Uncaptured = length - len(payload)
			n = uint32(length)
		}
		f.next[dir] += n
		f.written[dir] += len(c.Data)
		f.out = append(f.out, c)
		for f.flush(dir, 0, frame, t, false) {
		}
		return
	}
	f.pending[dir] = append(f.pending[dir], c)
}

// flush delivers at most one waiting segment of direction dir and reports
// whether it did (callers loop until it does not). A waiting segment that
// starts at or before the next expected byte is delivered (its new part
// only). Otherwise, when useAck and ack lies beyond the lowest waiting
// segment, the hole before it is declared missing and skipped.
func (f *Follower) flush(dir int, ack uint32, frame int, t time.Time, useAck bool) bool {
	p := f.pending[dir]
	if len(p) == 0 {
		return false
	}
	lowest := p[0].Seq
	for i := range p {
		c := p[i]
		if seqGT(lowest, c.Seq) {
			lowest = c.Seq
		}
		if seqLT(c.Seq, f.next[dir]) {
			end := c.Seq + uint32(len(c.Data))
			if seqGT(end, f.next[dir]) {
				skip := f.next[dir] - c.Seq
				fresh := Chunk{Dir: dir, Frame: c.Frame, Time: c.Time, Seq: f.next[dir], Data: c.Data[skip:]}
				f.out = append(f.out, fresh)
				f.written[dir] += len(fresh.Data)
				f.next[dir] += uint32(len(fresh.Data))
			}
			f.pending[dir] = append(p[:i:i], p[i+1:]...)
			return true
		}
		if c.Seq == f.next[dir] {
			f.out = append(f.out, c)
			f.written[dir] += len(c.Data)
			f.next[dir] += uint32(len(c.Data))
			f.pending[dir] = append(p[:i:i], p[i+1:]...)
			return true
		}
	}
	if useAck && seqGT(ack, lowest) {
		f.out = append(f.out, Chunk{Dir: dir, Frame: frame, Time: t, Seq: f.next[dir], Missing: int(lowest - f.next[dir])})
		f.next[dir] = lowest
		return true
	}
	return false
}

// Chunks returns the chunks delivered so far, in reading order. Segments
// still waiting behind a hole nobody acknowledged are not included: like
// Wireshark, tcpscope cannot know whether they were ever received.
func (f *Follower) Chunks() []Chunk { return f.out }

// Waiting returns the segments still held behind an unfilled hole, by
// direction, so a caller can say how much was left out.
func (f *Follower) Waiting() [2]int {
	var n [2]int
	for d := range f.pending {
		for _, c := range f.pending[d] {
			n[d] += len(c.Data)
		}
	}
	return n
}

// Sequence-number comparisons modulo 2³² (RFC 9293 §3.4).
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqGT(a, b uint32) bool { return int32(a-b) > 0 }
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }

// Bytes returns what direction dir sent, in order, with zero bytes standing
// in for gaps and for bytes the snaplen cut, so that offsets in the result
// are offsets in the stream (as tcpflow's files keep them).
func (f *Follower) Bytes(dir int) []byte {
	var b []byte
	for _, c := range f.out {
		if c.Dir != dir {
			continue
		}
		b = append(b, c.Data...)
		b = append(b, make([]byte, c.Missing+c.Uncaptured)...)
	}
	return b
}
