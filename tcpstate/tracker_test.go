package tcpstate

import (
	"math/rand"
	"net/netip"
	"reflect"
	"testing"
)

// TestTrackerFrontSameAsLookup: the tracker's shortcuts, for a segment of
// the connection the last one belonged to and of one of the last few found
// (recent), give the state changes and final
// states that looking the connection up every time gives, over random
// interleavings of whole connections (handshake, data, FINs, resets),
// with so few connections followed (Max 3) that they are forgotten and
// their memory reused all the time.
func TestTrackerFrontSameAsLookup(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	type step struct {
		stream   int
		src, dst netip.AddrPort
		seg      Seg
	}
	var steps []step
	srv := netip.MustParseAddrPort("10.0.0.1:80")
	for round := range 400 {
		stream := rng.Intn(8)
		cli := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), uint16(40000+stream))
		a, b := cli, srv
		if rng.Intn(2) == 0 {
			a, b = b, a
		}
		flags := []uint8{SYN, SYN | ACK, ACK, ACK, FIN | ACK, RST, RST | ACK}[rng.Intn(7)]
		steps = append(steps, step{stream, a, b, Seg{Flags: flags, Seq: uint32(round), Ack: uint32(round), Len: rng.Intn(3)}})
		for range rng.Intn(4) { // a run of the same connection
			steps = append(steps, step{stream, b, a, Seg{Flags: ACK, Seq: uint32(round), Ack: uint32(round)}})
		}
	}
	fast, slow := &Tracker{Max: 3}, &Tracker{Max: 3}
	for i, s := range steps {
		// No shortcut: the map and the list every time.
		slow.front, slow.recent = nil, [4]recentConn{}
		got := fast.Step(s.stream, s.src, s.dst, s.seg, nil)
		want := slow.Step(s.stream, s.src, s.dst, s.seg, nil)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d (stream %d): changes %v, want %v", i, s.stream, got, want)
		}
		for stream := range 8 {
			fm, fc := fast.Machine(stream)
			sm, sc := slow.Machine(stream)
			if (fm == nil) != (sm == nil) || fm != nil && (*fm != *sm || fc != sc) {
				t.Fatalf("step %d: stream %d: %+v %v, want %+v %v", i, stream, fm, fc, sm, sc)
			}
		}
	}
}
