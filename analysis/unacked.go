package analysis

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/google/btree"
)

// unacked is one segment that has not been acknowledged yet.
type unacked struct {
	frame        int
	ord          uint64 // order of arrival in its list (frame numbers need not grow)
	seq, nextSeq uint32 // raw; nextSeq counts SYN/FIN as one
	sec          int64  // capture time, kept without time.Time's pointer
	nsec         int32  // so that the tree holds no pointers for the GC
}

func mkUnacked(frame int, seq, nextSeq uint32, t time.Time) unacked {
	return unacked{frame: frame, seq: seq, nextSeq: nextSeq, sec: t.Unix(), nsec: int32(t.Nanosecond())}
}

// time is the segment's capture time.
func (u *unacked) time() time.Time { return time.Unix(u.sec, int64(u.nsec)) }

// since is now.Sub(u.time()) (ack_rtt, on most ACKs), worked out from the
// seconds and nanoseconds kept: time.Time.Sub adds its result back and
// compares, to catch an overflow past ±292 years, which seconds less than
// 2³³ apart cannot reach (neither time has a monotonic reading: capture
// times never do). TestUnackedSinceIsSub.
func (u *unacked) since(now time.Time) time.Duration {
	if d := now.Unix() - u.sec; d > -1<<33 && d < 1<<33 {
		return time.Duration(d)*time.Second + time.Duration(int64(now.Nanosecond())-int64(u.nsec))
	}
	return now.Sub(u.time())
}

// unackedList holds one direction's unacknowledged segments and answers the
// four questions the analysis asks of them: which segment an ACK hits (and
// which it removes or trims), which segment first carried a retransmitted
// sequence number, and the lowest start and highest end, for bytes in
// flight.
//
// Wireshark keeps a plain list and walks all of it for each of these, which
// costs up to 10,000 steps per segment when nothing is acknowledged (a
// capture that misses one direction, a stalled receiver): 1 M such segments
// took 47 s. Here a short list is still a slice walked the same way (a few
// entries: nothing is faster), and a long one moves into a B-tree ordered by
// sequence number, where each question costs O(log n) plus the segments it
// removes or trims: the same 1 M segments take 2.9 s. (The "tree" is an
// ordered: a sorted slice while segments come in order, as in every bulk
// transfer, where adding and acknowledging cost O(1); a B-tree once they
// do not.)
//
// The B-tree orders sequence numbers on a line (keys relative to an anchor
// 2³⁰ below the first segment), but TCP compares them on a circle (seqLT and
// friends). While all keys lie within 2³⁰ of each other, which segments an
// ACK or a sequence number can concern is one or two runs of keys, found in
// the tree, and each of them is then judged by Wireshark's own circular
// test, so the answers are exact. A list whose segments are 1 GB apart or
// more (only crafted traffic does that) is "spread": it is walked like
// Wireshark's, at Wireshark's cost, until the far segments are gone.
type unackedList struct {
	small []unacked // the list while it is short (tree == nil), oldest first

	tree    *ordered  // the list while it is long, by (key, ord)
	anchor  uint32    // key(v) = v - anchor
	hi      uint32    // highest nextSeq key in the tree
	maxLen  uint32    // upper bound of nextSeq-seq over the tree
	spread  bool      // keys may not compare as the circle does
	n       int       // entries in the tree
	nextOrd uint64    // ord of the next segment added
	gone    int       // segments removed since the tree was built
	buf     []keyed   // scratch for matchAck
	scratch []unacked // scratch for all, while short

	// Recycling, so that a list going back and forth between slice and
	// tree (a bulk transfer's, every few round trips) allocates nothing:
	// tree nodes go to the analyzer's free list (free, nil in tests that
	// build lists by hand), an emptied tree is kept for the next build.
	free  *btree.FreeListG[keyed]
	spare *ordered
}

// keyed is a tree entry: the segment and its sequence number's key.
type keyed struct {
	key uint32
	u   unacked
}

func keyedLess(a, b keyed) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	return a.u.ord < b.u.ord
}

const (
	toTreeAbove = 32 // a slice longer than this becomes a tree
	toSliceAt   = 8  // a tree this short becomes a slice again
	quarter     = 1 << 30
)

func (l *unackedList) len() int {
	if l.tree != nil {
		return l.n
	}
	return len(l.small)
}

// clear forgets every segment.
func (l *unackedList) clear() {
	if l.tree != nil {
		l.tree.Clear()
	}
	*l = unackedList{nextOrd: l.nextOrd, free: l.free, small: keepSmall(l.small), scratch: keepSmall(l.scratch)}
}

// newTree returns an empty ordered list: the spare one, or a new one
// whose B-tree nodes, if it needs them, come from and go back to the free
// list.
func (l *unackedList) newTree() *ordered {
	if t := l.spare; t != nil {
		l.spare = nil
		return t
	}
	return &ordered{free: l.free}
}

// dropTree makes the list a slice again, its tree's nodes recycled.
func (l *unackedList) dropTree() {
	l.tree.Clear()
	l.spare, l.tree = l.tree, nil
}

// add appends a segment (the newest).
func (l *unackedList) add(u unacked) {
	u.ord = l.nextOrd
	l.nextOrd++
	if l.tree == nil {
		if l.small == nil {
			l.small = make([]unacked, 0, 8) // one allocation, not four
		}
		l.small = append(l.small, u)
		if len(l.small) > toTreeAbove {
			l.build(l.small)
			l.small = l.small[:0]
		}
		return
	}
	l.insert(u)
}

// build puts segs into a fresh tree anchored 2³⁰ below the oldest one.
func (l *unackedList) build(segs []unacked) {
	if l.tree == nil {
		l.tree = l.newTree()
	} else {
		l.tree.Clear()
	}
	l.n, l.hi, l.maxLen, l.spread, l.gone = 0, 0, 0, false, 0
	l.anchor = segs[0].seq - quarter
	for _, u := range segs {
		l.insert(u)
	}
}

func (l *unackedList) insert(u unacked) {
	k, nk := u.seq-l.anchor, u.nextSeq-l.anchor
	l.tree.ReplaceOrInsert(keyed{k, u})
	l.n++
	if nk <= k {
		l.spread = true // wraps around the anchor
	}
	if l.n == 1 || nk > l.hi {
		l.hi = nk
	}
	l.maxLen = max(l.maxLen, u.nextSeq-u.seq)
	if lo, _ := l.tree.Min(); l.hi-lo.key >= quarter || l.maxLen >= 1<<20 {
		l.spread = true
	}
}

// respread clears spread once the segments are close again (the one far
// away was acknowledged): a rebuild re-anchors them. It is tried after as
// many removals as there are segments left, so its cost is amortized.
func (l *unackedList) respread() {
	if l.spread && l.gone >= l.n {
		l.build(l.all())
	}
}

// all returns the tree's segments oldest first, for the walks that do not
// fit the tree. A short result is in the list's scratch slice (valid until
// the next call), so that settle allocates nothing; a long one (only a
// spread list needs that) is new, so the scratch stays small.
func (l *unackedList) all() []unacked {
	var segs []unacked
	if l.n <= toTreeAbove {
		segs = l.scratch[:0]
	} else {
		segs = make([]unacked, 0, l.n)
	}
	l.tree.Ascend(func(e keyed) bool {
		segs = append(segs, e.u)
		return true
	})
	slices.SortFunc(segs, func(a, b unacked) int { return cmp.Compare(a.ord, b.ord) })
	if l.n <= toTreeAbove {
		l.scratch = segs[:0]
	}
	return segs
}

// settle turns a tree that has become short back into a slice.
func (l *unackedList) settle() {
	if l.tree == nil || l.n > toSliceAt {
		return
	}
	segs := l.all()
	l.dropTree()
	l.small = append(l.small[:0], segs...)
}

// covers reports whether u holds sequence number seq (Wireshark:
// GE_SEQ(seq, u.seq) && LT_SEQ(seq, u.nextseq)).
func covers(u *unacked, seq uint32) bool {
	return seqGE(seq, u.seq) && seqLT(seq, u.nextSeq)
}

// findOriginal finds the frame that first carried sequence number seq, for
// the "retransmission of #N" note: the oldest unacknowledged segment that
// covers it (Wireshark's RTO frame picks the oldest listed segment too).
func (l *unackedList) findOriginal(seq uint32) (int, time.Time) {
	if l.tree == nil || l.spread {
		var segs []unacked
		if l.tree == nil {
			segs = l.small
		} else {
			segs = l.all()
		}
		for _, u := range segs {
			if covers(&u, seq) {
				return u.frame, u.time()
			}
		}
		return 0, time.Time{}
	}
	// A segment covers seq only if seq-u.seq < u.nextSeq-u.seq <= maxLen:
	// its key is in (q-maxLen, q] on the circle, one or two runs of keys.
	var best unacked
	found := false
	look := func(from, to uint32) { // keys from..to, to >= from
		l.tree.DescendLessOrEqual(keyed{to, unacked{ord: math.MaxUint64}}, func(e keyed) bool {
			if e.key < from {
				return false
			}
			if covers(&e.u, seq) && (!found || e.u.ord < best.ord) {
				best, found = e.u, true
			}
			return true
		})
	}
	q := seq - l.anchor
	if from := q - (l.maxLen - 1); from <= q {
		look(from, q)
	} else {
		look(0, q)
		look(from, math.MaxUint32)
	}
	if !found {
		return 0, time.Time{}
	}
	return best.frame, best.time()
}

// verdict is what an ACK does to one listed segment.
type verdict int

const (
	keep   verdict = iota
	trim           // the ACK falls inside: the segment now starts at the ACK
	hit            // the ACK is the segment's end: acks_frame, then removed
	remove         // the segment ends before the ACK
)

// judge is Wireshark's rule, in its order of tests.
func judge(u *unacked, ack uint32) verdict {
	switch {
	case ack == u.nextSeq:
		return hit
	case seqGT(ack, u.seq) && seqLE(ack, u.nextSeq):
		return trim
	case seqGT(u.nextSeq, ack):
		return keep
	}
	return remove
}

// matchAck matches an ACK from the other side against the list (see the
// caller in analyze for the rules): an exact hit on a segment's end gives
// acks_frame and ack_rtt (the oldest hit wins), a hit inside a segment trims
// it, and every segment ending at or below the ACK is forgotten.
func (l *unackedList) matchAck(ack uint32, now time.Time, r *Result, x *facts) {
	hitOrd := uint64(math.MaxUint64)
	apply := func(u *unacked) verdict {
		v := judge(u, ack)
		switch v {
		case hit:
			if u.ord < hitOrd {
				hitOrd = u.ord
				r.AcksFrame = u.frame
				r.AckRTT = u.since(now)
				x.ackedSeq = u.seq
			}
		case trim:
			u.seq = ack
		}
		return v
	}
	if l.tree == nil {
		// Compacted in place from the front, so appending reuses the
		// array instead of growing a slice whose front was cut away.
		n := 0
		for j := range l.small {
			if v := apply(&l.small[j]); v == keep || v == trim {
				l.small[n] = l.small[j]
				n++
			}
		}
		l.small = l.small[:n]
		return
	}
	// Which segments can an ACK change? Those whose start is not in
	// [ack, ack+2³¹-maxLen) on the circle: there, the ACK is before the
	// segment and its end. With every key in [lo, hi], a span shorter than
	// that range, the others are the keys below the ACK's (the usual
	// case), or those from ack+2³¹-maxLen on (an ACK from far away), or
	// all or none of them.
	l.buf = l.buf[:0]
	collect := func(e keyed) bool {
		l.buf = append(l.buf, e)
		return true
	}
	lo, _ := l.tree.Min()
	hiKey, _ := l.tree.Max()
	q := ack - l.anchor
	far := q + 1<<31 - l.maxLen
	usual := false
	switch {
	case l.spread:
		l.tree.Ascend(collect)
	case q > lo.key && q <= hiKey.key:
		usual = true
		l.tree.AscendLessThan(keyed{key: q}, collect)
	case far > lo.key && far <= hiKey.key:
		l.tree.AscendGreaterOrEqual(keyed{key: far}, collect)
	case lo.key-far < 1<<31+l.maxLen:
		l.tree.Ascend(collect)
	}
	removed := false
	for i := range l.buf {
		e := &l.buf[i]
		switch apply(&e.u) {
		case keep:
			continue
		case trim:
			l.tree.Delete(*e)
			l.tree.ReplaceOrInsert(keyed{e.u.seq - l.anchor, e.u})
		default:
			l.tree.Delete(*e)
			l.n--
			l.gone++
			removed = true
		}
	}
	switch {
	case l.n == 0:
		l.dropTree()
		l.small = l.small[:0]
	case removed && !usual:
		// The segment with the highest end may be gone: only those
		// starting within maxLen of the highest start can hold it.
		l.hi = 0
		top, _ := l.tree.Max()
		l.tree.Descend(func(e keyed) bool {
			if top.key-e.key >= l.maxLen {
				return false
			}
			l.hi = max(l.hi, e.u.nextSeq-l.anchor)
			return true
		})
		l.respread()
	case removed:
		l.respread()
	}
	l.settle()
}

// bounds returns the lowest start and the highest end among the segments,
// relative to base and compared as plain unsigned numbers, as Wireshark's
// bytes-in-flight computation does. The list must not be empty.
func (l *unackedList) bounds(base uint32) (first, last uint32) {
	if l.tree != nil && !l.spread {
		lo, _ := l.tree.Min()
		d := l.anchor - base
		// Relative to base, the keys keep their order unless the span
		// crosses base itself.
		if uint64(lo.key+d)+uint64(l.hi-lo.key) < 1<<32 {
			return lo.key + d, l.hi + d
		}
	}
	segs := l.small
	if l.tree != nil {
		segs = l.all()
	}
	u := segs[len(segs)-1]
	first, last = u.seq-base, u.nextSeq-base
	for _, u := range segs {
		if u.nextSeq-base > last {
			last = u.nextSeq - base
		}
		if u.seq-base < first {
			first = u.seq - base
		}
	}
	return first, last
}
