package analysis

import (
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"
)

// synFlood returns the i-th SYN of a flood from distinct source ports and
// addresses to one server, as a spoofing attacker sends them.
func synFlood(i int, now time.Time) Segment {
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000))
	return Segment{Frame: i + 1, Time: now.Add(time.Duration(i) * time.Microsecond), Src: src,
		Dst: netip.MustParseAddrPort("192.0.2.80:80"), Seq: uint32(i) * 2654435761, Flags: SYN,
		Window: 64240, MSS: 1460, WScale: 7}
}

// TestEvictLRU: with a cap of 3, the least recently *used* connection goes,
// not the oldest one; the count says so; summaries list only what is kept,
// in stream order. The evicted connection's tombstone brings its SYN back
// to its old stream (as Wireshark, which forgets nothing, would), and a SYN
// with a new ISN on an evicted pair is a new stream flagged reused_ports,
// naming the old one.
func TestEvictLRU(t *testing.T) {
	a := New(Options{MaxStreams: 3})
	now := time.Unix(1700000000, 0)
	add := func(i int) Result { return a.Add(synFlood(i, now)) }
	for i := 0; i < 3; i++ {
		add(i)
	}
	add(0) // retransmitted SYN: stream 0 is now the most recently used
	add(3) // a fourth connection evicts stream 1, the least recently used
	if a.EvictedStreams() != 1 {
		t.Fatalf("evicted %d, want 1", a.EvictedStreams())
	}
	var got []int
	for _, s := range a.Summaries() {
		got = append(got, s.Stream)
	}
	if len(got) != 3 || got[0] != 0 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("kept streams %v, want [0 2 3]", got)
	}
	if r := add(1); r.Stream != 1 || r.Flags.Has(ReusedPorts) {
		t.Fatalf("evicted pair's retransmitted SYN went to stream %d %v, want its old stream 1", r.Stream, r.Flags.Names())
	}
	if a.EvictedStreams() != 2 || a.lru.n != 3 || len(a.current) != 3 {
		t.Fatalf("evicted %d, kept %d, current %d; want 2, 3, 3", a.EvictedStreams(), a.lru.n, len(a.current))
	}
	// Stream 2 was evicted by the revival; a new ISN on its ports.
	s := synFlood(2, now)
	s.Seq += 1000
	s.Frame = 99
	r := a.Add(s)
	if r.Stream != 4 || !r.Flags.Has(ReusedPorts) {
		t.Fatalf("new ISN on an evicted pair: stream %d %v, want the new stream 4 with reused_ports", r.Stream, r.Flags.Names())
	}
	if note := r.Note.String(); !strings.Contains(note, "same ports as stream 2") {
		t.Fatalf("note %q does not name the old stream 2", note)
	}
}

// TestEvictReusedPorts: a connection replaced by port reuse is no longer
// "current" but is still kept (its summary) until it ages out; evicting it
// must not remove its successor from the table.
func TestEvictReusedPorts(t *testing.T) {
	a := New(Options{MaxStreams: 2})
	now := time.Unix(1700000000, 0)
	s := synFlood(0, now)
	a.Add(s)
	s.Seq += 1000 // new ISN on the same ports: a new connection
	s.Frame, s.Time = 2, s.Time.Add(time.Second)
	if r := a.Add(s); r.Stream != 1 || !r.Flags.Has(ReusedPorts) {
		t.Fatalf("reuse: stream %d flags %v", r.Stream, r.Flags.Names())
	}
	a.Add(synFlood(5, now)) // evicts stream 0, the replaced one
	if a.EvictedStreams() != 1 || len(a.current) != 2 {
		t.Fatalf("evicted %d, current %d; want 1, 2", a.EvictedStreams(), len(a.current))
	}
	s.Frame, s.Time = 4, s.Time.Add(time.Second)
	if r := a.Add(s); r.Stream != 1 {
		t.Fatalf("successor lost: retransmitted SYN went to stream %d, want 1", r.Stream)
	}
}

// TestMillionSYNsBounded feeds a million-connection SYN flood through the
// analyzer with the default cap: the table never holds more than
// DefaultMaxStreams connections and the live heap afterwards stays far
// below what a million connections would take.
func TestMillionSYNsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the million-connection flood")
	}
	const n = 1000000
	a := New(Options{})
	now := time.Unix(1700000000, 0)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		a.Add(synFlood(i, now))
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if a.lru.n != DefaultMaxStreams || a.EvictedStreams() != n-DefaultMaxStreams {
		t.Fatalf("kept %d, evicted %d; want %d, %d", a.lru.n, a.EvictedStreams(), DefaultMaxStreams, n-DefaultMaxStreams)
	}
	if len(a.tombs) != tombsPerStream*DefaultMaxStreams {
		t.Fatalf("%d tombstones, want the cap %d", len(a.tombs), tombsPerStream*DefaultMaxStreams)
	}
	live := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	perConn := live / DefaultMaxStreams
	t.Logf("1M SYNs: %d connections kept, %d evicted, live heap %.1f MiB (%d B per kept connection), peak heap sys %.1f MiB",
		a.lru.n, a.EvictedStreams(), float64(live)/(1<<20), perConn, float64(after.HeapSys)/(1<<20))
	// A kept half-open connection costs well under 2 KiB; the bound is
	// what a million of them would need divided by five.
	if live > 200<<20 {
		t.Fatalf("live heap grew by %d MiB after a capped flood", live>>20)
	}
	runtime.KeepAlive(a)
}

// TestEachSummaryCounts: SummaryCount is the number of summaries
// EachSummary yields, in stream order, also after evictions, and stopping
// the loop early stops it.
func TestEachSummaryCounts(t *testing.T) {
	a := New(Options{MaxStreams: 50})
	now := time.Unix(1700000000, 0)
	for i := range 80 {
		a.Add(synFlood(i, now))
	}
	n, last := 0, -1
	for s := range a.EachSummary() {
		if s.Stream <= last {
			t.Fatalf("stream %d after %d", s.Stream, last)
		}
		last = s.Stream
		n++
	}
	if n != a.SummaryCount() || n != 50 {
		t.Fatalf("EachSummary yielded %d, SummaryCount says %d, want 50 (80 streams, 30 evicted)", n, a.SummaryCount())
	}
	seen := 0
	for range a.EachSummary() {
		seen++
		if seen == 3 {
			break
		}
	}
	if seen != 3 {
		t.Fatalf("the loop went on after break: %d", seen)
	}
}

// TestKeyOfIsCompareOrder: keyOf puts the ends in netip.AddrPort.Compare's
// order whatever order they come in, for ends on one address and on two
// (both families, a zone).
func TestKeyOfIsCompareOrder(t *testing.T) {
	var eps []netip.AddrPort
	for _, a := range []string{"127.0.0.1", "10.0.0.2", "::1", "::ffff:127.0.0.1", "fe80::1%eth0", "fe80::1%eth1"} {
		for _, p := range []uint16{0, 80, 33893, 65535} {
			eps = append(eps, netip.AddrPortFrom(netip.MustParseAddr(a), p))
		}
	}
	for _, a := range eps {
		for _, b := range eps {
			lo, hi := a, b
			if a.Compare(b) > 0 {
				lo, hi = b, a
			}
			if k := keyOf(a, b); k.lo != lo || k.hi != hi {
				t.Fatalf("keyOf(%v, %v) = {%v %v}, Compare's order is {%v %v}", a, b, k.lo, k.hi, lo, hi)
			}
		}
	}
}

// TestJoinsIsKeyEquality: a connection made for the ends (a, b) joins
// (src, dst) exactly when keyOf(src, dst) is its key, which AddTo relies
// on to skip building the key for a segment of the connection before.
func TestJoinsIsKeyEquality(t *testing.T) {
	var eps []netip.AddrPort
	for _, a := range []string{"127.0.0.1", "10.0.0.2", "::1", "::ffff:127.0.0.1", "fe80::1%eth0", "fe80::1%eth1"} {
		for _, p := range []uint16{0, 80, 65535} {
			eps = append(eps, netip.AddrPortFrom(netip.MustParseAddr(a), p))
		}
	}
	for _, a := range eps {
		for _, b := range eps {
			c := conn{ends: [2]netip.AddrPort{a, b}}
			for _, src := range eps {
				for _, dst := range eps {
					if got, want := c.joins(src, dst), keyOf(src, dst) == keyOf(a, b); got != want {
						t.Fatalf("ends %v %v: joins(%v, %v) = %v, key equality %v", a, b, src, dst, got, want)
					}
				}
			}
		}
	}
}

// checkNear fails unless every entry of a.near is the current connection
// of its own ends, in the slot of its ends (and last too): what AddTo's
// shortcuts rely on, with joins standing for key equality
// (TestJoinsIsKeyEquality).
func checkNear(t *testing.T, a *Analyzer, when string) {
	t.Helper()
	for i, n := range a.near {
		if n != nil && (a.current[n.key] != n || nearSlot(n.key.lo, n.key.hi) != i) {
			t.Fatalf("%s: near[%d] holds stream %d, not the current connection of its ends in their slot", when, i, n.c.stream)
		}
	}
	if n := a.last; n != nil && a.current[n.key] != n {
		t.Fatalf("%s: last holds stream %d, not the current connection of its ends", when, n.c.stream)
	}
}

// TestNearIsCurrent: through evictions (a cap of 8 among 64 port pairs,
// many sharing a slot), revivals from tombstones and port reuse (new ISNs
// on known pairs, evicted or, with a cap of 100, mostly still current: the
// connections they replace fill the cap over time), near and
// last only ever hold current connections, and every segment gets the
// stream and flags an analyzer without near gives: the map's.
func TestNearIsCurrent(t *testing.T) {
	for _, max := range []int{8, 100} {
		t.Run(fmt.Sprint("cap-", max), func(t *testing.T) { testNearIsCurrent(t, max) })
	}
}

func testNearIsCurrent(t *testing.T, maxStreams int) {
	a := New(Options{MaxStreams: maxStreams})
	ref := New(Options{MaxStreams: maxStreams})
	now := time.Unix(1700000000, 0)
	server := netip.MustParseAddrPort("192.0.2.80:80")
	isn := map[int]uint32{}
	for i := range 20000 {
		// Pair k: client port 1024+k, two addresses, so pairs k and
		// k+32 share a port and a slot but are different connections.
		k := (i*7 + i/13) % 64
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(k / 32)}), uint16(1024+k%32))
		s := Segment{Frame: i + 1, Time: now.Add(time.Duration(i) * time.Millisecond), Src: client, Dst: server,
			Flags: ACK, Seq: isn[k] + 1, Ack: 1, Window: 1000, Len: 10}
		switch {
		case i%97 == 0: // a new connection on the pair (a new ISN)
			isn[k] += 100000
			s.Flags, s.Seq, s.Len = SYN, isn[k], 0
		case i%5 == 0: // the server's side
			s.Src, s.Dst, s.Seq, s.Ack = server, client, 1, isn[k]+1
		}
		got := a.Add(s)
		ref.near = [nearSlots]*lruNode{} // the reference never finds a connection there
		want := ref.Add(s)
		if got.Stream != want.Stream || got.Flags != want.Flags {
			t.Fatalf("segment %d: stream %d %v, without near %d %v", i, got.Stream, got.Flags.Names(), want.Stream, want.Flags.Names())
		}
		checkNear(t, a, fmt.Sprintf("after segment %d", i))
	}
	if a.EvictedStreams() == 0 {
		t.Fatalf("cap %d: nothing was evicted", maxStreams)
	}
}
