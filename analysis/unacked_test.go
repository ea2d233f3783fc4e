package analysis

import (
	"math/rand/v2"
	"testing"
	"time"
)

// walkList is the list as Wireshark keeps it, walked in full for every
// question: the reference unackedList must agree with.
type walkList []unacked

func (w walkList) findOriginal(seq uint32) (int, time.Time) {
	for _, u := range w {
		if seqGE(seq, u.seq) && seqLT(seq, u.nextSeq) {
			return u.frame, u.time()
		}
	}
	return 0, time.Time{}
}

func (w *walkList) matchAck(ack uint32, now time.Time) (frame int, rtt time.Duration, ackedSeq uint32) {
	var kept walkList
	for _, u := range *w {
		switch {
		case ack == u.nextSeq:
			if frame == 0 {
				frame, rtt, ackedSeq = u.frame, now.Sub(u.time()), u.seq
			}
			continue
		case seqGT(ack, u.seq) && seqLE(ack, u.nextSeq):
			u.seq = ack
		case seqGT(u.nextSeq, ack):
		default:
			continue
		}
		kept = append(kept, u)
	}
	*w = kept
	return
}

func (w walkList) bounds(base uint32) (first, last uint32) {
	u := w[len(w)-1]
	first, last = u.seq-base, u.nextSeq-base
	for _, u := range w {
		last = max(last, u.nextSeq-base)
		first = min(first, u.seq-base)
	}
	return
}

// TestUnackedListAgreesWithWalk drives the list and the plain walk with the
// same random segments, ACKs and questions: in-order and reordered data,
// overlaps, retransmissions, wrap-around near 2³², bases that move, and now
// and then a segment half the circle away (which the tree cannot order and
// must answer by walking).
func TestUnackedListAgreesWithWalk(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	for seed := uint64(1); seed <= 60; seed++ {
		rng := rand.New(rand.NewPCG(seed, seed*7))
		var l unackedList
		var w walkList
		start := rng.Uint32()
		if seed%3 == 0 {
			start = 1<<32 - 3000 // wraps during the run
		}
		next := start
		acked := start
		base := start - 1
		frame := 0
		// Some runs acknowledge little, so the list grows long.
		data := 55 + int(seed%5)*10
		ackEnd := data + (100-data)*6/10
		find := ackEnd + (100-ackEnd)/2
		for step := 0; step < 4000; step++ {
			frame++
			now := t0.Add(time.Duration(frame) * time.Millisecond)
			switch op := rng.IntN(100); {
			case op < data: // data
				n := uint32(1 + rng.IntN(1500))
				seq := next
				switch k := rng.IntN(20); {
				case k < 3: // older data again (retransmission, overlap)
					seq = acked + uint32(rng.IntN(int(next-acked)+1))
				case k < 5: // reordered: a little ahead, leaving a hole
					seq = next + uint32(rng.IntN(3000))
				case k == 5 && seed%4 == 0: // half the circle away
					seq = next + 1<<31 + uint32(rng.IntN(1000)) - 500
				}
				u := mkUnacked(frame, seq, seq+n, now)
				if seqGT(u.nextSeq, next) && seqLT(u.nextSeq-next, 1<<20) {
					next = u.nextSeq
				}
				if l.len() != len(w) {
					t.Fatalf("seed %d step %d: len %d, walk %d", seed, step, l.len(), len(w))
				}
				if len(w) >= 3000 {
					continue // the analyzer's cap, smaller here
				}
				l.add(u)
				w = append(w, u)
			case op < ackEnd: // an ACK
				var ack uint32
				switch k := rng.IntN(10); {
				case k < 3 && len(w) > 0: // a segment's end
					ack = w[rng.IntN(len(w))].nextSeq
				case k < 5 && len(w) > 0: // the oldest one's end, or inside it
					ack = w[0].nextSeq - uint32(rng.IntN(2))
				case k < 8: // somewhere in flight
					ack = acked + uint32(rng.IntN(int(next-acked)+1))
				case k < 9: // the same again
					ack = acked
				default:
					ack = rng.Uint32()
				}
				if seqGT(ack, acked) && seqLE(ack, next) {
					acked = ack
				}
				var r Result
				var x facts
				l.matchAck(ack, now, &r, &x)
				f, rtt, as := w.matchAck(ack, now)
				if r.AcksFrame != f || r.AckRTT != rtt || (f != 0 && x.ackedSeq != as) {
					t.Fatalf("seed %d step %d ack %d: got frame %d rtt %v seq %d, walk %d %v %d",
						seed, step, ack, r.AcksFrame, r.AckRTT, x.ackedSeq, f, rtt, as)
				}
			case op < find: // which frame first carried this byte
				q := acked + uint32(rng.IntN(int(next-acked)+2)) - 1
				if rng.IntN(5) == 0 {
					q = rng.Uint32()
				}
				gf, gt := l.findOriginal(q)
				wf, wt := w.findOriginal(q)
				if gf != wf || !gt.Equal(wt) {
					t.Fatalf("seed %d step %d find %d: got %d, walk %d", seed, step, q, gf, wf)
				}
			default: // bytes in flight, sometimes from another base
				if len(w) == 0 {
					continue
				}
				b := base
				if rng.IntN(4) == 0 {
					b = rng.Uint32()
				}
				gf, gl := l.bounds(b)
				wf, wl := w.bounds(b)
				if gf != wf || gl != wl {
					t.Fatalf("seed %d step %d bounds(%d): got %d-%d, walk %d-%d", seed, step, b, gf, gl, wf, wl)
				}
			}
		}
	}
}

// TestUnackedSinceIsSub: an unacknowledged segment's age at now is
// now.Sub of its capture time, also across whole seconds, backwards, at
// the ends of the direct computation's range and past them (where
// time.Time.Sub saturates).
func TestUnackedSinceIsSub(t *testing.T) {
	times := []time.Time{time.Unix(0, 0), time.Unix(1764590000, 999999999), time.Unix(1764590001, 1),
		time.Unix(1<<33-1, 5), time.Unix(1<<33, 0), time.Unix(-1<<33, 7), time.Unix(1<<40, 3), time.Unix(-1<<62, 0),
		time.Unix(1<<62, 999999999), {}}
	for _, sent := range times {
		u := mkUnacked(1, 0, 1, sent)
		for _, now := range times {
			if got, want := u.since(now), now.Sub(sent); got != want {
				t.Errorf("sent %v, now %v: since %v, Sub %v", sent, now, got, want)
			}
		}
	}
}
