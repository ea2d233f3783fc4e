package render

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestAppendSeconds checks the hand-written seconds against strconv's
// shortest 'f' formatting, which the JSON output promised before it.
func TestAppendSeconds(t *testing.T) {
	ds := []time.Duration{0, 1, -1, 999999999, 1e9, -1e9, 1e9 + 1, 123456789, 1<<22*time.Second - 1,
		1 << 22 * time.Second, -1<<22*time.Second + 1, 1 << 53, 1<<63 - 1, -1 << 63, 17 * time.Microsecond}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000000 {
		switch r.IntN(3) {
		case 0:
			ds = append(ds, time.Duration(r.Int64N(int64(100*time.Second))))
		case 1:
			ds = append(ds, time.Duration(r.Int64N(int64(60*24*time.Hour)))-30*24*time.Hour)
		default:
			ds = append(ds, time.Duration(r.Int64N(1e6))*time.Microsecond)
		}
	}
	var b []byte
	for _, d := range ds {
		want := strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
		b = appendSeconds(b[:0], d)
		if string(b) != want {
			t.Fatalf("appendSeconds(%d) = %s, strconv says %s", int64(d), b, want)
		}
	}
}

// TestAppendTime checks the cached-date timestamp against time.RFC3339Nano.
func TestAppendTime(t *testing.T) {
	var j JSON
	r := rand.New(rand.NewPCG(3, 4))
	ts := []time.Time{time.Unix(0, 0), time.Unix(0, 1), time.Unix(-1, 5), time.Unix(1700000000, 100), time.Unix(1700000000, 0)}
	base := time.Unix(1764300000, 0)
	for range 200000 {
		ts = append(ts, base.Add(time.Duration(r.Int64N(int64(10*time.Second)))), time.Unix(r.Int64N(1<<34)-1<<33, r.Int64N(1e9)))
	}
	var b []byte
	for _, x := range ts {
		want := x.UTC().Format(time.RFC3339Nano)
		b = j.appendTime(b[:0], x)
		if string(b) != want {
			t.Fatalf("appendTime(%v) = %s, want %s", x, b, want)
		}
	}
}

// TestAppendSeconds6 checks the text's hand-written six-decimal seconds
// (the time column, -ttt) against strconv, which the lines used before:
// the half-microsecond cases, the edges of the range and random ones.
func TestAppendSeconds6(t *testing.T) {
	ds := []time.Duration{0, 1, -1, 499, 500, 501, 1499, 1500, 1501, 999999499, 999999500, 999999501, 1e9 - 1, 1e9,
		1<<22*time.Second - 1, 1 << 22 * time.Second, -1e9, 1<<63 - 1, -1 << 63, 17 * time.Microsecond}
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000000 {
		switch r.IntN(4) {
		case 0:
			ds = append(ds, time.Duration(r.Int64N(int64(100*time.Second))))
		case 1:
			ds = append(ds, time.Duration(r.Int64N(int64(60*24*time.Hour)))-time.Hour)
		case 2:
			ds = append(ds, time.Duration(r.Int64N(1e9))*time.Microsecond+time.Duration(495+r.IntN(11)))
		default:
			ds = append(ds, time.Duration(r.Int64N(1e6))*time.Microsecond)
		}
	}
	var b []byte
	for _, d := range ds {
		want := strconv.FormatFloat(d.Seconds(), 'f', 6, 64)
		b = appendSeconds6(b[:0], d)
		if string(b) != want {
			t.Fatalf("appendSeconds6(%d) = %s, strconv says %s", int64(d), b, want)
		}
	}
}

// TestSecondsTextKeepsLast: the kept text of the last duration is what
// appendSeconds writes, over runs of repeated durations (a connection's
// initial RTT) broken by others, long texts that are not kept included,
// also after a renderer is copied; it fails if a changed duration is
// answered from the kept text.
func TestSecondsTextKeepsLast(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	pool := []time.Duration{0, 4 * time.Microsecond, 33 * time.Microsecond, 1, 1<<63 - 1, -1 << 63, 123456789, 1<<22*time.Second + 7}
	var s secondsText
	var b []byte
	kept := 0
	for i := range 200000 {
		d := pool[r.IntN(len(pool))]
		if r.IntN(4) == 0 {
			d = time.Duration(r.Int64N(int64(10 * time.Second)))
		}
		for range r.IntN(5) + 1 {
			if s.n > 0 && s.d == d {
				kept++
			}
			b = s.append(b[:0], d)
			if want := appendSeconds(nil, d); string(b) != string(want) {
				t.Fatalf("call %d: %d written as %s, want %s", i, int64(d), b, want)
			}
		}
		if i == 1000 {
			c := s // a copy shares no storage
			s.append(nil, 999)
			if c.d != d {
				t.Fatalf("a copy changed with the original")
			}
		}
	}
	if kept < 100000 {
		t.Fatalf("only %d texts came from the kept one", kept)
	}
}

// TestRelClockIsSub: relClock.since(t, start) is t.Sub(start) for capture
// times near and far apart (where Sub saturates), for a start that
// changes between calls, and for times with monotonic readings (which Sub
// subtracts when both have one).
func TestRelClockIsSub(t *testing.T) {
	now := time.Now()
	times := []time.Time{time.Unix(0, 0), time.Unix(1764590000, 999999999), time.Unix(1764590001, 1),
		time.Unix(1<<33-1, 5), time.Unix(1<<33, 0), time.Unix(-1<<33, 7), time.Unix(1<<62, 999999999), {},
		now, now.Add(1500 * time.Millisecond), now.Round(0).Add(time.Second)}
	var c relClock
	for _, start := range times {
		for _, at := range times {
			if got, want := c.since(at, start), at.Sub(start); got != want {
				t.Errorf("start %v, time %v: since %v, Sub %v", start, at, got, want)
			}
		}
	}
}
