package session

import (
	"bytes"
	"time"
)

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
//
// Memory stays bounded whatever the stream's length: with Emit set, chunks
// are handed over as soon as they are in order and not kept; and the
// segments waiting behind a hole are bounded (MaxPending bytes per
// direction, 16 MiB unless set, and 8192 segments). When a hole is still
// not filled, nor acknowledged, once that much waits behind it, the hole is
// given up: it is shown as missing, like an acknowledged one, and the
// waiting data is delivered. (Wireshark waits for ever, and shows nothing
// after a hole that never fills: a capture of one direction that missed
// its first segment.)
type Follower struct {
	// Emit, when set, receives each chunk as it is delivered instead of
	// Chunks keeping it; its Data is valid only during the call.
	Emit func(Chunk)
	// MaxPending bounds the bytes waiting behind a hole per direction;
	// 0 means DefaultMaxPending.
	MaxPending int

	next     [2]uint32  // next expected relative sequence number per direction
	written  [2]int     // bytes delivered per direction
	pending  [2][]Chunk // out-of-order segments waiting for a hole to fill
	pendingN [2]int     // bytes in pending
	out      []Chunk    // delivered chunks, in reading order (without Emit)
	gaps     [2]int     // missing and uncaptured bytes delivered per direction
}

// DefaultMaxPending is how many bytes may wait behind a hole per direction
// before the hole is given up.
const DefaultMaxPending = 16 << 20

// maxPendingSegments bounds the waiting segments too (the scan for the next
// one is linear).
const maxPendingSegments = 8192

// deliver passes c on (Emit) or keeps it (Chunks).
func (f *Follower) deliver(c Chunk) {
	f.gaps[c.Dir] += c.Missing + c.Uncaptured
	if f.Emit != nil {
		f.Emit(c)
		return
	}
	f.out = append(f.out, c)
}

// Delivered returns the payload bytes delivered per direction.
func (f *Follower) Delivered() [2]int { return f.written }

// Gaps returns the missing and uncaptured bytes delivered per direction.
func (f *Follower) Gaps() [2]int { return f.gaps }

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
	c := Chunk{Dir: dir, Frame: frame, Time: t, Seq: seq}
	if seq == f.next[dir] {
		// In order: handed to Emit at once, which may not keep it, so
		// no copy is made; kept otherwise.
		c.Data = payload
		if f.Emit == nil {
			c.Data = bytes.Clone(payload)
		}
		// In order. Like Wireshark, skip what the snaplen cut off rather
		// than wait for it: those bytes were sent, only not kept.
		if length > len(payload) {
			c.Uncaptured = length - len(payload)
			n = uint32(length)
		}
		f.next[dir] += n
		f.written[dir] += len(c.Data)
		f.deliver(c)
		for f.flush(dir, 0, frame, t, false) {
		}
		return
	}
	c.Data = bytes.Clone(payload)
	f.pending[dir] = append(f.pending[dir], c)
	f.pendingN[dir] += len(c.Data)
	limit := f.MaxPending
	if limit <= 0 {
		limit = DefaultMaxPending
	}
	for f.pendingN[dir] > limit || len(f.pending[dir]) > maxPendingSegments {
		// Give the hole up: as if the receiver had acknowledged the
		// lowest waiting byte.
		lowest := f.pending[dir][0].Seq
		for _, c := range f.pending[dir] {
			if seqGT(lowest, c.Seq) {
				lowest = c.Seq
			}
		}
		for f.flush(dir, lowest+1, frame, t, true) {
		}
	}
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
				f.deliver(fresh)
				f.written[dir] += len(fresh.Data)
				f.next[dir] += uint32(len(fresh.Data))
			}
			f.drop(dir, i)
			return true
		}
		if c.Seq == f.next[dir] {
			f.deliver(c)
			f.written[dir] += len(c.Data)
			f.next[dir] += uint32(len(c.Data))
			f.drop(dir, i)
			return true
		}
	}
	if useAck && seqGT(ack, lowest) {
		f.deliver(Chunk{Dir: dir, Frame: frame, Time: t, Seq: f.next[dir], Missing: int(lowest - f.next[dir])})
		f.next[dir] = lowest
		return true
	}
	return false
}

// drop removes waiting segment i of direction dir, keeping the order.
func (f *Follower) drop(dir, i int) {
	p := f.pending[dir]
	f.pendingN[dir] -= len(p[i].Data)
	copy(p[i:], p[i+1:])
	p[len(p)-1] = Chunk{}
	f.pending[dir] = p[:len(p)-1]
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
